"""Glue job extract_oltp: the shop's PostgreSQL tables -> the raw zone as Parquet, over JDBC.
Thin: arguments and I/O here; the SQL and the current-state rule in glue_jobs.transforms.oltp.

Incremental by `updated_at`: each table's watermark (the latest updated_at already copied)
lives in a JSON document in the state folder; a run copies the rows that changed after it,
up to the latest updated_at the run saw first, as one new batch (partition extract_batch).
The read starts --lookback_minutes before the watermark, so rows a long transaction committed
late (stamped before the watermark) are still copied; versions already copied are skipped.
A table without a watermark, or every table with --full, gets a full snapshot that replaces
its raw folder. Large batches are read in parallel range queries on a split column.

The batch is staged, the current state of every table (previous batches plus the staged one)
is checked against contracts/quality/extract_oltp.yaml, and only then are the batches
published and the watermarks moved. A failed check leaves the raw zone and the watermarks as
they were, so the next run retries the same changes.

Arguments (Glue style): --raw_uri (raw zone root), --state_uri (state folder), the database
as --database_secret_id (an RDS secret, on AWS) or --jdbc_url and --jdbc_user (password from
PGPASSWORD), optional --full (true/false), --lookback_minutes, --rows_per_partition,
--max_partitions, and the quality gate's arguments (glue_jobs.quality.GateArguments).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as sf

from contracts.lake import RAW_OLTP, table_path
from glue_jobs.jdbc import (
    DatabaseArguments,
    JdbcSource,
    SplitRead,
    read_query,
    read_table,
)
from glue_jobs.job_runtime import Flag, job_arguments, job_spark_session, report
from glue_jobs.parallel import map_concurrently
from glue_jobs.quality import GateArguments, QualityGate, gate_from_arguments
from glue_jobs.staging import StagedTable, remove, staging_root
from glue_jobs.state import read_document, write_document
from glue_jobs.transforms.oltp import (
    BATCH_COLUMN,
    SOURCE_TABLES,
    SourceTable,
    batch_name,
    bounds_query,
    changes_query,
    latest_versions,
    new_versions,
    parse_utc,
    read_after,
    read_partitions,
)

WATERMARKS_DOCUMENT = "extract_oltp/watermarks.json"
DEFAULT_ROWS_PER_PARTITION = 200_000
DEFAULT_MAX_PARTITIONS = 8
# Longer than any transaction the shop runs: its writes are single requests.
DEFAULT_LOOKBACK = timedelta(minutes=15)


@dataclass(frozen=True)
class ReadSettings:
    """How far before the watermark incremental reads start, and how finely large batches are
    split into parallel JDBC reads."""

    lookback: timedelta = DEFAULT_LOOKBACK
    rows_per_partition: int = DEFAULT_ROWS_PER_PARTITION
    max_partitions: int = DEFAULT_MAX_PARTITIONS


@dataclass(frozen=True)
class TableExtract:
    """What one run did to one table: rows read from the source (changed since the watermark,
    less the look-back: in), rows written in the new batch (new versions: out), and the
    source table's row count."""

    table: str
    batch: str | None
    rows_changed: int
    rows_written: int
    read_partitions: int
    rows_at_source: int
    watermark: datetime | None


def watermarks_path(state_uri: str) -> str:
    return table_path(state_uri, WATERMARKS_DOCUMENT)


def load_watermarks(state_uri: str) -> dict[str, datetime]:
    document = read_document(watermarks_path(state_uri)) or {}
    return {table: parse_utc(moment) for table, moment in document.get("tables", {}).items()}


def save_watermarks(state_uri: str, watermarks: Mapping[str, datetime]) -> None:
    tables = {table: moment.isoformat() for table, moment in sorted(watermarks.items())}
    write_document(watermarks_path(state_uri), {"tables": tables})


def _read_batch(
    spark: SparkSession,
    source: JdbcSource,
    table: SourceTable,
    since: datetime | None,
    bounds: Mapping[str, Any],
    settings: ReadSettings,
) -> tuple[DataFrame, int]:
    """The rows of one table changed after its watermark less the look-back, tagged with the
    watermark's batch, and the number of reads."""
    through = parse_utc(bounds["through"]) if bounds["through"] else None
    partitions = read_partitions(
        bounds["changed"], settings.rows_per_partition, settings.max_partitions
    )
    split = (
        SplitRead(table.split_column, bounds["split_low"], bounds["split_high"], partitions)
        if bounds["split_low"] is not None
        else None
    )
    query = changes_query(table, read_after(since, settings.lookback), through)
    frame = read_table(spark, source, query, split)
    return frame.withColumn(BATCH_COLUMN, sf.lit(batch_name(since))), partitions


@dataclass(frozen=True)
class _StagedExtract:
    """One table within a run: its staged batch (if any) and its current state."""

    staged: StagedTable | None
    current: DataFrame
    read_partitions: int = 0
    batch_rows: int | None = None


def _stage_table(
    spark: SparkSession,
    source: JdbcSource,
    table: SourceTable,
    since: datetime | None,
    bounds: Mapping[str, Any],
    raw_root: str,
    staging: str,
    settings: ReadSettings,
) -> _StagedExtract:
    """Read and stage the table's new batch (a snapshot without a watermark, else the rows
    changed since it, if any) and describe its current state."""
    final_path = table_path(raw_root, f"{RAW_OLTP}/{table.name}")
    previous = None if since is None else spark.read.parquet(final_path)
    if since is not None and bounds["changed"] == 0:
        return _StagedExtract(None, latest_versions(previous, table.keys))
    frame, partitions = _read_batch(spark, source, table, since, bounds, settings)
    if previous is not None:
        # A batch re-run from the same watermark (a crash before the watermark moved) replaces
        # its own partition, so only the other batches count as already copied.
        copied = previous.filter(sf.col(BATCH_COLUMN) != batch_name(since))
        frame = new_versions(frame, copied, table.keys)
    staged = StagedTable(
        staging_path=table_path(staging, f"{RAW_OLTP}/{table.name}"),
        final_path=final_path,
        partition_column=BATCH_COLUMN,
        replace_whole=since is None,
    )
    batch = staged.write(frame)
    if previous is None:
        # A snapshot is the current state as it is: its keys are checked, not deduplicated.
        return _StagedExtract(staged, batch.drop(BATCH_COLUMN), partitions)
    current = latest_versions(previous.unionByName(batch), table.keys)
    return _StagedExtract(staged, current, partitions, batch.count())


def run_extract(
    spark: SparkSession,
    source: JdbcSource,
    raw_root: str,
    state_uri: str,
    gate: QualityGate,
    *,
    full: bool = False,
    settings: ReadSettings = ReadSettings(),
) -> list[TableExtract]:
    """Extract every source table, check, publish, move the watermarks; per-table report.
    Tables are read and staged side by side (glue_jobs.parallel)."""
    watermarks = {} if full else load_watermarks(state_uri)
    since = {table.name: watermarks.get(table.name) for table in SOURCE_TABLES}
    starts = {name: read_after(moment, settings.lookback) for name, moment in since.items()}
    bounds = {
        row["table_name"]: row.asDict()
        for row in read_query(spark, source, bounds_query(SOURCE_TABLES, starts)).collect()
    }
    staging = staging_root(raw_root, gate.run_id)
    try:
        staged_runs = map_concurrently(
            lambda table: _stage_table(
                spark, source, table, since[table.name], bounds[table.name], raw_root, staging,
                settings,
            ),
            SOURCE_TABLES,
        )  # fmt: skip
        runs = {table.name: run for table, run in zip(SOURCE_TABLES, staged_runs, strict=True)}
        source_rows = {f"source_{name}": row["total"] for name, row in bounds.items()}
        checked = gate.check(
            {name: run.current for name, run in runs.items()}, reference_counts=source_rows
        )
        for run in runs.values():
            if run.staged is not None:
                run.staged.promote(spark)
    finally:
        remove(spark, staging)
    new_watermarks = dict(watermarks)
    for name, row in bounds.items():
        if runs[name].staged is not None and row["through"]:
            new_watermarks[name] = parse_utc(row["through"])
    save_watermarks(state_uri, new_watermarks)
    extracts = []
    for table in SOURCE_TABLES:
        run = runs[table.name]
        # A snapshot's rows out were counted by the gate; a batch was counted on its own.
        if run.staged is None:
            written = 0
        else:
            written = checked.rows[table.name] if run.batch_rows is None else run.batch_rows
        extracts.append(
            TableExtract(
                table=table.name,
                batch=batch_name(since[table.name]) if written else None,
                rows_changed=bounds[table.name]["changed"],
                rows_written=written,
                read_partitions=run.read_partitions,
                rows_at_source=bounds[table.name]["total"],
                watermark=new_watermarks.get(table.name),
            )
        )
    return extracts


class ExtractArguments(GateArguments, DatabaseArguments):
    job_name: ClassVar[str] = "extract_oltp"
    raw_uri: str
    state_uri: str
    full: Flag = False
    lookback_minutes: int = int(DEFAULT_LOOKBACK.total_seconds() // 60)
    rows_per_partition: int = DEFAULT_ROWS_PER_PARTITION
    max_partitions: int = DEFAULT_MAX_PARTITIONS

    @property
    def read_settings(self) -> ReadSettings:
        return ReadSettings(
            lookback=timedelta(minutes=self.lookback_minutes),
            rows_per_partition=self.rows_per_partition,
            max_partitions=self.max_partitions,
        )


def main(argv: Sequence[str] = sys.argv) -> None:
    args = job_arguments(argv, ExtractArguments)
    spark = job_spark_session("extract_oltp")
    extracts = run_extract(
        spark,
        args.source(),
        args.raw_uri,
        args.state_uri,
        gate_from_arguments("extract_oltp", args),
        full=args.full,
        settings=args.read_settings,
    )
    report(
        "extract_oltp",
        {item.table: {"in": item.rows_changed, "out": item.rows_written} for item in extracts},
    )


if __name__ == "__main__":
    main()
