"""Glue job curate_events: raw event lines -> curated `events` and `sessions`, plus the
quarantine. Thin: arguments and I/O here, the rules in glue_jobs.transforms.

Two sources of raw lines, either of which may be absent (not both): --events_path, JSON Lines
files as landed (gzip allowed; a line's receive time is its file's modification time, the S3
object's last-modified time in AWS), and --stream_events_path, the table the streaming job
lands from the events topic (each event's line as it arrived, received when Kafka stored it;
the records it rejected are already in the raw zone's quarantine). Copies of an event in both
count as duplicates like any other.

Other arguments (Glue style): --curated_uri (root of the curated zone), optional --watermark
(ISO 8601 with zone; without it nothing is too late, as on a first run or a backfill),
--allowed_lateness_hours (48), --state_uri and --full. Outputs are Parquet partitioned by day
and replaced per partition, so re-running on the same input gives the same tables. They are
staged first and published only when contracts/quality/curate_events.yaml passes (plus the
quality gate's arguments, glue_jobs.quality.GateArguments).

With --state_uri a run curates only the raw objects its manifest there does not list
(glue_jobs.raw_objects) and folds them into the published tables
(glue_jobs.transforms.incremental); without a manifest, with --full true, or when a curated
object changed, it re-curates every line.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from dataclasses import astuple, dataclass
from datetime import date, datetime, timedelta
from functools import reduce
from typing import Self

from pydantic import model_validator
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as sf
from pyspark.sql.types import StructType

from contracts.lake import (
    CURATED_EVENTS,
    CURATED_PARTITIONS,
    CURATED_SESSIONS,
    QUARANTINE,
    table_path,
)
from glue_jobs.job_runtime import Flag, IsoDatetime, job_arguments, job_spark_session, report
from glue_jobs.parallel import map_concurrently
from glue_jobs.quality import GateArguments, QualityGate, gate_from_arguments
from glue_jobs.raw_objects import (
    RawListing,
    list_objects,
    manifest_uri,
    read_manifest,
    write_manifest,
)
from glue_jobs.staging import StagedTable, exists, remove, staging_root
from glue_jobs.transforms.event_schema import spark_event_schema
from glue_jobs.transforms.events import (
    ACCEPTED,
    DUPLICATE,
    OUTCOMES,
    classify_raw_lines,
    curated_events,
    curation_counts,
    quarantined_events,
    with_parsed_events,
)
from glue_jobs.transforms.frames import materialized
from glue_jobs.transforms.incremental import (
    affected_owners,
    changed_event_days,
    changed_partitions,
    owned_by,
    replaced_rows,
    resessionized,
    settle_copies,
)
from glue_jobs.transforms.sessions import assign_sessions, summarize_sessions

DEFAULT_ALLOWED_LATENESS_HOURS = 48.0
# What curate_events reads of the streaming job's table (glue_jobs.transforms.raw_stream).
STREAMED_LINE_SCHEMA = "raw_event string, kafka_timestamp timestamp"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RawEventSources:
    """Where the raw lines are: landed JSON Lines and the streaming job's table (either may be
    None or not exist yet, not both)."""

    landed: str | None = None
    streamed: str | None = None


@dataclass(frozen=True)
class RawFiles:
    """Particular objects of each source, to read instead of all of it."""

    landed: tuple[str, ...] = ()
    streamed: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.landed or self.streamed)


def read_raw_lines(
    spark: SparkSession, sources: RawEventSources, files: RawFiles | None = None
) -> DataFrame:
    """Every raw line of the sources that exist (or of `files` only), as `value` and
    `received_at`."""
    if files is None:
        landed, streamed = (
            [root] if root and exists(spark, root) else [] for root in astuple(sources)
        )
    else:
        landed, streamed = list(files.landed), list(files.streamed)
    frames = []
    if landed:
        frames.append(
            spark.read.text(landed).select(
                "value", sf.col("_metadata.file_modification_time").alias("received_at")
            )
        )
    if streamed:
        frames.append(
            # The two columns by name: no schema to infer, so a table the streaming job has
            # not written a file to yet reads as empty instead of failing. Files of the table
            # are read with its root as the base of their partition folders.
            spark.read.schema(STREAMED_LINE_SCHEMA)
            .option("basePath", sources.streamed)
            .parquet(*streamed)
            .select(
                sf.col("raw_event").alias("value"), sf.col("kafka_timestamp").alias("received_at")
            )
        )
    if not frames:
        raise FileNotFoundError(
            f"no raw events: nothing at {sources.landed!r} (landed JSON Lines) or at "
            f"{sources.streamed!r} (the streaming job's table)"
        )
    raw = reduce(DataFrame.unionByName, frames)
    # A gzip file cannot be split: one big landing file would otherwise be checked and parsed
    # by one task on one core.
    cores = spark.sparkContext.defaultParallelism
    if raw.rdd.getNumPartitions() < cores:
        raw = raw.repartition(2 * cores)
    return raw


@dataclass(frozen=True)
class StagedRun:
    """What a run staged: the frames the gate checks, the partitions it replaces per table
    (beyond those staged: a replaced partition left with no rows is removed), published rows
    it carried into them, and new copies outvoted by a published copy (duplicates)."""

    checked: dict[str, DataFrame]
    replaced: dict[str, list[date]]
    carried_rows: int = 0
    outvoted: int = 0


def run_curation(
    spark: SparkSession,
    sources: RawEventSources,
    curated_root: str,
    watermark: datetime | None,
    allowed_lateness: timedelta,
    gate: QualityGate,
    *,
    state_root: str | None = None,
    full: bool = False,
) -> dict[str, int]:
    """Curate the raw lines; returns the outcome counts of the lines read (they add up to
    received). With `state_root`, only the raw objects its manifest lacks are read and folded
    into the published tables (all of them on a first run, with `full`, or when a curated
    object changed), and the manifest then lists every object seen."""
    if state_root is None:
        return _curate(spark, read_raw_lines(spark, sources), curated_root, watermark,
                       allowed_lateness, gate, incremental=False)  # fmt: skip
    manifest = manifest_uri(state_root)
    listing = RawListing(
        landed=list_objects(spark, sources.landed) if sources.landed else {},
        streamed=list_objects(spark, sources.streamed) if sources.streamed else {},
        curated_before=None if full else read_manifest(manifest),
    )
    incremental = _can_fold(spark, listing, curated_root)
    files = RawFiles(
        listing.to_read(listing.landed, fold=incremental),
        listing.to_read(listing.streamed, fold=incremental),
    )
    if incremental and not files:
        log.info("curate_events: no new raw object, nothing to curate")
        return dict.fromkeys(("received", *OUTCOMES), 0)
    raw = read_raw_lines(spark, sources, files)
    counts = _curate(
        spark, raw, curated_root, watermark, allowed_lateness, gate, incremental=incremental
    )
    write_manifest(manifest, listing.objects)
    return counts


def _can_fold(spark: SparkSession, listing: RawListing, curated_root: str) -> bool:
    """Whether the new objects can be folded into the published tables."""
    if listing.curated_before is None:
        log.info("curate_events: no manifest (first run, or --full): curating every line")
        return False
    rewritten = listing.rewritten()
    if rewritten:
        log.warning(
            "curate_events: %d curated raw objects changed or vanished (%s): curating every line",
            len(rewritten),
            rewritten[0],
        )
        return False
    if not exists(spark, table_path(curated_root, CURATED_EVENTS)):
        log.info("curate_events: no curated events yet: curating every line")
        return False
    return True


def _curate(
    spark: SparkSession,
    raw: DataFrame,
    curated_root: str,
    watermark: datetime | None,
    allowed_lateness: timedelta,
    gate: QualityGate,
    *,
    incremental: bool,
) -> dict[str, int]:
    event_schema = spark_event_schema()
    # The cache holds lines and outcomes; events are parsed from it for the accepted only.
    lines = classify_raw_lines(
        raw, event_schema=event_schema, watermark=watermark, allowed_lateness=allowed_lateness
    ).persist()
    classified = with_parsed_events(lines, event_schema)
    staging = staging_root(curated_root, gate.run_id)
    outputs = {
        name: StagedTable(table_path(staging, name), table_path(curated_root, name), partition)
        for name, partition in CURATED_PARTITIONS.items()
    }
    try:
        stage = _stage_folded if incremental else _stage_all
        staged = stage(spark, classified, outputs)
        counts = curation_counts(lines).collect()[0].asDict()
        counts[ACCEPTED] -= staged.outvoted
        counts[DUPLICATE] += staged.outvoted
        lines.unpersist()  # the gate's aggregations need the memory more
        # Rows out never exceed rows in: the lines read plus the published rows carried over.
        reference = {"raw_events": counts["received"] + staged.carried_rows}
        gate.check(staged.checked, reference_counts=reference)
        for name, output in outputs.items():
            output.promote(spark, staged.replaced.get(name, []))
        return counts
    finally:
        lines.unpersist()
        remove(spark, staging)


def _stage_all(
    spark: SparkSession, classified: DataFrame, outputs: dict[str, StagedTable]
) -> StagedRun:
    """Every table from the lines alone (a full run)."""
    events = assign_sessions(curated_events(classified)).persist()
    # Events first, so the sessions read them from the cache; then the rest side by side.
    staged_events = outputs[CURATED_EVENTS].write(events)
    derived = {
        CURATED_SESSIONS: summarize_sessions(events),
        QUARANTINE: quarantined_events(classified).withColumn(
            CURATED_PARTITIONS[QUARANTINE], sf.to_date("received_at")
        ),
    }
    staged_sessions, _ = map_concurrently(lambda name: outputs[name].write(derived[name]), derived)
    events.unpersist()
    return StagedRun({CURATED_EVENTS: staged_events, CURATED_SESSIONS: staged_sessions}, {})


def _published(spark: SparkSession, path: str, schema: StructType) -> DataFrame:
    """A published table read with the schema the job writes it with (empty when absent)."""
    if exists(spark, path):
        return spark.read.schema(schema).parquet(path)
    return spark.createDataFrame([], schema)


def _values(frame: DataFrame) -> list[date]:
    """The values of a one-column frame of partition values, sorted."""
    return sorted(row[0] for row in frame.collect())


def _stage_folded(
    spark: SparkSession, classified: DataFrame, outputs: dict[str, StagedTable]
) -> StagedRun:
    """The partitions the new lines change, published rows and new ones merged
    (glue_jobs.transforms.incremental says what is recomputed)."""
    candidates = curated_events(classified)
    events_schema = assign_sessions(candidates).schema
    published = _published(spark, outputs[CURATED_EVENTS].final_path, events_schema)
    settled = materialized(settle_copies(candidates, published))
    owners = materialized(affected_owners(settled))
    # Every day an affected owner has events on; only those partitions are read whole.
    owner_days = _values(owned_by(published, owners).select("event_date").distinct())
    prior = materialized(owned_by(published.filter(sf.col("event_date").isin(owner_days)), owners))
    after = materialized(resessionized(prior, settled))
    recomputed_sessions = materialized(summarize_sessions(after))
    published_sessions = _published(
        spark, outputs[CURATED_SESSIONS].final_path, recomputed_sessions.schema
    )
    prior_sessions = prior.select("session_id")
    before = published_sessions.join(prior_sessions, "session_id", "left_semi")
    quarantine_column = CURATED_PARTITIONS[QUARANTINE]
    new_quarantine = quarantined_events(classified).withColumn(
        quarantine_column, sf.to_date("received_at")
    )
    # The partitions to replace, found side by side.
    event_days, session_days, quarantine_days = map_concurrently(
        _values,
        [
            changed_event_days(prior, after),
            changed_partitions(before, recomputed_sessions, "session_date"),
            new_quarantine.select(quarantine_column).distinct(),
        ],
    )
    in_event_days = sf.col("event_date").isin(event_days)
    in_session_days = sf.col("session_date").isin(session_days)
    published_quarantine = _published(spark, outputs[QUARANTINE].final_path, new_quarantine.schema)

    merged = {
        CURATED_EVENTS: replaced_rows(
            published.filter(in_event_days), after.filter(in_event_days), prior, "event_id"
        ),
        CURATED_SESSIONS: replaced_rows(
            published_sessions.filter(in_session_days),
            recomputed_sessions.filter(in_session_days),
            prior_sessions,
            "session_id",
        ),
        QUARANTINE: published_quarantine.filter(sf.col(quarantine_column).isin(quarantine_days))
        .unionByName(new_quarantine)
        .select(*new_quarantine.columns),
    }
    # The gate checks sessions against the events of the same days: besides the replaced
    # events, the published events of the days whose sessions are replaced.
    session_only_days = sorted(set(session_days) - set(event_days))
    in_session_only_days = sf.col("event_date").isin(session_only_days)
    carried = published.filter(in_event_days | in_session_only_days).count()
    outvoted = settled.filter(~sf.col("_wins")).count()
    staged_events, staged_sessions, _ = map_concurrently(
        lambda name: outputs[name].write(merged[name]), merged
    )
    # A table none of whose partitions changed is checked as published.
    checked = {
        CURATED_EVENTS: staged_events.unionByName(published.filter(in_session_only_days))
        if event_days or session_days
        else published,
        CURATED_SESSIONS: staged_sessions if session_days else published_sessions,
    }
    replaced = {
        CURATED_EVENTS: event_days,
        CURATED_SESSIONS: session_days,
        QUARANTINE: quarantine_days,
    }
    return StagedRun(checked, replaced, carried_rows=carried, outvoted=outvoted)


class CurateArguments(GateArguments):
    curated_uri: str
    events_path: str | None = None
    stream_events_path: str | None = None
    watermark: IsoDatetime | None = None
    allowed_lateness_hours: float = DEFAULT_ALLOWED_LATENESS_HOURS
    state_uri: str | None = None
    full: Flag = False

    @model_validator(mode="after")
    def _names_a_source(self) -> Self:
        if not (self.events_path or self.stream_events_path):
            raise ValueError("curate_events needs --events_path, --stream_events_path or both")
        return self


def main(argv: Sequence[str] = sys.argv) -> None:
    args = job_arguments(argv, CurateArguments)
    spark = job_spark_session("curate_events")
    counts = run_curation(
        spark,
        RawEventSources(args.events_path, args.stream_events_path),
        args.curated_uri,
        args.watermark,
        timedelta(hours=args.allowed_lateness_hours),
        gate_from_arguments("curate_events", args),
        state_root=args.state_uri,
        full=args.full,
    )
    report("curate_events", counts)


if __name__ == "__main__":
    main()
