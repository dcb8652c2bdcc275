"""Glue job load_warehouse: the lake's Parquet in S3 -> Redshift, through the Redshift Data API:
every table of contracts/warehouse/loads.py, the marts (marts zone) and the ML customer scores
(curated zone). Thin: arguments and the AWS calls here; the SQL is built by `load_batches`
from the tables' DDL in contracts/warehouse.

Idempotent: each table is loaded through a temporary staging table and replaced partition by
partition (delete the partition, insert it from staging) inside a transaction, so a re-run
gives the same rows and a failed run leaves the previous ones. A table without a partition
column is replaced as a whole the same way. COPY maps Parquet columns by position and the
partition value lives in the S3 path, not in the files, so each partition is copied on its
own and its value added on insert. Only `part-` files are copied (Spark's and the scoring
step's, never `_SUCCESS`). A table whose contract names `latest_partitions` (the scores: one
new day each day) copies only its newest days; older days stay as loaded.

A table created by an earlier release first gets the columns its contract has added since
(`ALTER TABLE ... ADD COLUMN`); one holding a column the contract no longer has is refused,
untouched, with the way out in the error.

The Data API (contracts/warehouse/data_api.py) runs a batch of statements as one transaction,
at most 40 statements a batch; a table with many partitions is loaded in several transactions
of whole partitions.

Arguments (Glue style): --marts_uri (marts zone root, s3://...), optional --curated_uri
(curated zone root; without it the curated tables are not loaded), --database, one of
--workgroup_name / --cluster_identifier, --secret_arn (or --db_user on a cluster), optional
--copy_role (an IAM role ARN; default: the warehouse's default role) and --tables (comma
separated; default every table whose zone is given).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlparse

from pydantic import BeforeValidator

from contracts.lake import table_path
from contracts.warehouse.data_api import DataApi, Warehouse
from contracts.warehouse.loads import warehouse_loads
from contracts.warehouse.tables import WarehouseTable
from glue_jobs.job_runtime import JobArguments, job_arguments, report

MAX_STATEMENTS_PER_BATCH = 40
# Each batch: the table's DDL, the staging table, one DELETE; then per partition a COPY,
# an INSERT and emptying the staging table.
_BATCH_OVERHEAD = 3
_PER_PARTITION = 3
PARTITIONS_PER_BATCH = (MAX_STATEMENTS_PER_BATCH - _BATCH_OVERHEAD) // _PER_PARTITION
SPARK_DATA_FILES = "part-"
# A table's columns as the warehouse holds them (none when it does not exist yet).
LIVE_COLUMNS_SQL = (
    "SELECT column_name FROM information_schema.columns"
    " WHERE table_schema = current_schema() AND table_name = :table_name"
    " ORDER BY ordinal_position"
)
# A load batch may copy many partitions: allow it far longer than a single DDL statement.
BATCH_TIMEOUT_S = 3600.0
POLL_INTERVAL_S = 2.0


@dataclass(frozen=True)
class RedshiftTarget(Warehouse):
    """Where the marts go (see Warehouse), and the role COPY assumes there (default: the
    warehouse's default role)."""

    copy_role: str | None = None

    @property
    def iam_role(self) -> str:
        return f"'{self.copy_role}'" if self.copy_role else "default"


class SchemaDriftError(RuntimeError):
    """A warehouse table holds columns its contract no longer has: nothing is loaded."""


def column_additions(table: WarehouseTable, live_columns: Sequence[str]) -> list[str]:
    """The statements that give a table created by an earlier release the columns its
    contract has added since (none for a table not created yet). Added columns are nullable:
    rows already there have no value for them until their partitions are loaded again."""
    if not live_columns:
        return []
    dropped = [name for name in live_columns if name not in table.column_names]
    if dropped:
        raise SchemaDriftError(
            f"{table.name} in the warehouse has columns its contract no longer has: "
            f"{', '.join(dropped)}; nothing was loaded. Drop those columns (ALTER TABLE "
            f"{table.name} DROP COLUMN ...) or the table itself: the next load recreates it "
            "from the lake."
        )
    return [
        f"ALTER TABLE {table.name} ADD COLUMN {column.name} {column.type}"
        for column in table.columns
        if column.name not in live_columns
    ]


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ddl(table: WarehouseTable) -> str:
    code = "\n".join(line.split("--", 1)[0].rstrip() for line in table.ddl.splitlines())
    return "\n".join(line for line in code.splitlines() if line).rstrip().rstrip(";")


def _copy(staging: str, files: str, iam_role: str) -> str:
    return f"COPY {staging} FROM {_literal(files)} IAM_ROLE {iam_role} FORMAT AS PARQUET"


def load_batches(
    table: WarehouseTable,
    table_uri: str,
    partition_column: str | None,
    partition_values: Sequence[str],
    iam_role: str = "default",
) -> list[list[str]]:
    """The SQL of a load, as batches of statements each run as one transaction."""
    staging = f"stage_{table.name}"
    prefix = table_path(table_uri, "")
    data_columns = [column for column in table.columns if column.name != partition_column]
    if partition_column is not None and len(data_columns) != len(table.columns) - 1:
        raise ValueError(f"{table.name} has no column {partition_column}")
    # Staging has the contract's columns in the files' order, and every insert names its
    # columns: a table an earlier release created holds the columns added since at its end.
    staged_columns = ", ".join(f"{column.name} {column.type}" for column in data_columns)
    names = ", ".join(column.name for column in data_columns)
    if partition_column is None:
        return [
            [
                _ddl(table),
                f"CREATE TEMP TABLE {staging} ({staged_columns})",
                _copy(staging, prefix + SPARK_DATA_FILES, iam_role),
                f"DELETE FROM {table.name}",  # noqa: S608 identifiers from the warehouse contract
                f"INSERT INTO {table.name} ({names}) SELECT {names} FROM {staging}",  # noqa: S608 identifiers from the warehouse contract
            ]
        ]
    # Partition values come from S3 key names: only well-formed dates reach the SQL.
    values = [date.fromisoformat(value).isoformat() for value in partition_values]
    batches = []
    for start in range(0, len(values), PARTITIONS_PER_BATCH):
        chunk = values[start : start + PARTITIONS_PER_BATCH]
        listed = ", ".join(f"DATE {_literal(value)}" for value in chunk)
        statements = [
            _ddl(table),
            f"CREATE TEMP TABLE {staging} ({staged_columns})",
            f"DELETE FROM {table.name} WHERE {partition_column} IN ({listed})",  # noqa: S608 identifiers from the contract, dates quoted
        ]
        for value in chunk:
            files = f"{prefix}{partition_column}={value}/{SPARK_DATA_FILES}"
            statements += [
                _copy(staging, files, iam_role),
                f"INSERT INTO {table.name} ({names}, {partition_column}) "  # noqa: S608 identifiers from the contract, dates quoted
                f"SELECT {names}, DATE {_literal(value)} FROM {staging}",
                f"DELETE FROM {staging}",  # noqa: S608 identifiers from the warehouse contract
            ]
        batches.append(statements)
    return batches


def partition_values(s3_client: Any, table_uri: str, partition_column: str) -> list[str]:
    """The values of the partition folders under an S3 table folder, in key order."""
    location = urlparse(table_uri)
    prefix = location.path.lstrip("/").rstrip("/") + "/"
    marker = f"{partition_column}="
    values = []
    pages = s3_client.get_paginator("list_objects_v2").paginate(
        Bucket=location.netloc, Prefix=prefix, Delimiter="/"
    )
    for page in pages:
        for common in page.get("CommonPrefixes", []):
            folder = common["Prefix"][len(prefix) :].rstrip("/")
            if folder.startswith(marker):
                values.append(folder[len(marker) :])
    return values


def load_tables(
    s3_client: Any,
    data_api: DataApi,
    zone_uris: Mapping[str, str],
    tables: Sequence[str],
    iam_role: str = "default",
) -> dict[str, int]:
    """Load each table from its zone's root in `zone_uris`, COPY assuming `iam_role`, after
    adding the columns its contract gained since the table was created; returns the
    partitions loaded per table (1 for a whole table)."""
    loads = warehouse_loads()
    unknown = [name for name in tables if name not in loads]
    if unknown:
        raise ValueError(f"not warehouse tables: {', '.join(unknown)}")
    loaded = {}
    for name in tables:
        load = loads[name]
        if load.zone not in zone_uris:
            raise ValueError(f"{name} is loaded from the {load.zone} zone: give its root")
        table_uri = load.location(zone_uris[load.zone])
        values = (
            load.chosen_partitions(partition_values(s3_client, table_uri, load.partition))
            if load.partition
            else []
        )
        live = data_api.rows(LIVE_COLUMNS_SQL, [("table_name", name)])
        additions = column_additions(load.table, [column for (column,) in live])
        if additions:
            data_api.run_batch(additions, f"add_columns_{name}")
        batches = load_batches(load.table, table_uri, load.partition, values, iam_role)
        for number, statements in enumerate(batches, start=1):
            data_api.run_batch(statements, f"load_{name}_{number}_of_{len(batches)}")
        loaded[name] = len(values) if load.partition else 1
    return loaded


def _comma_separated(value: object) -> object:
    return tuple(value.split(",")) if isinstance(value, str) else value


class LoadArguments(JobArguments):
    marts_uri: str
    curated_uri: str | None = None
    database: str
    workgroup_name: str | None = None
    cluster_identifier: str | None = None
    secret_arn: str | None = None
    db_user: str | None = None
    copy_role: str | None = None
    # Comma separated on the command line; empty: every table whose zone root is given.
    tables: Annotated[tuple[str, ...], BeforeValidator(_comma_separated)] = ()

    @property
    def zone_uris(self) -> dict[str, str]:
        zones = {"marts": self.marts_uri, "curated": self.curated_uri}
        return {zone: uri for zone, uri in zones.items() if uri}

    @property
    def chosen_tables(self) -> tuple[str, ...]:
        if self.tables:
            return self.tables
        return tuple(n for n, load in warehouse_loads().items() if load.zone in self.zone_uris)

    @property
    def target(self) -> RedshiftTarget:
        """The warehouse arguments are RedshiftTarget's fields, by the same names."""
        return RedshiftTarget(**self.model_dump(exclude={"marts_uri", "curated_uri", "tables"}))


def main(argv: Sequence[str] = sys.argv) -> None:
    import boto3  # the job runs on AWS; the module's SQL is usable without the SDK

    args = job_arguments(argv, LoadArguments)
    target = args.target
    data_api = DataApi(
        boto3.client("redshift-data"),
        target,
        timeout_s=BATCH_TIMEOUT_S,
        poll_interval_s=POLL_INTERVAL_S,
    )
    loaded = load_tables(
        boto3.client("s3"), data_api, args.zone_uris, args.chosen_tables, target.iam_role
    )
    report("load_warehouse", loaded)


if __name__ == "__main__":
    main()
