"""Glue job curate_events: raw event lines -> curated `events` and `sessions`, plus the
quarantine. Thin: arguments and I/O here, the rules in glue_jobs.transforms.

Two sources of raw lines, either of which may be absent (not both): --events_path, JSON Lines
files as landed (gzip allowed; a line's receive time is its file's modification time, the S3
object's last-modified time in AWS), and --stream_events_path, the table the streaming job
lands from the events topic (each event's line as it arrived, received when Kafka stored it;
the records it rejected are already in the raw zone's quarantine). Copies of an event in both
count as duplicates like any other.

Other arguments (Glue style): --curated_uri (root of the curated zone), optional --watermark
(ISO 8601 with zone; without it nothing is too late, as on a first run or a backfill) and
--allowed_lateness_hours (48). Outputs are Parquet partitioned by day and replaced per
partition, so re-running on the same input gives the same tables. They are staged first and
published only when contracts/quality/curate_events.yaml passes (plus the quality gate's
arguments, glue_jobs.quality.GateArguments).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import reduce
from typing import Self

from pydantic import model_validator
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as sf

from contracts.lake import (
    CURATED_EVENTS,
    CURATED_PARTITIONS,
    CURATED_SESSIONS,
    QUARANTINE,
    table_path,
)
from glue_jobs.job_runtime import IsoDatetime, job_arguments, job_spark_session, report
from glue_jobs.parallel import map_concurrently
from glue_jobs.quality import GateArguments, QualityGate, gate_from_arguments
from glue_jobs.staging import StagedTable, exists, remove, staging_root
from glue_jobs.transforms.event_schema import spark_event_schema
from glue_jobs.transforms.events import (
    classify_raw_lines,
    curated_events,
    curation_counts,
    quarantined_events,
    with_parsed_events,
)
from glue_jobs.transforms.sessions import assign_sessions, summarize_sessions

DEFAULT_ALLOWED_LATENESS_HOURS = 48.0
# What curate_events reads of the streaming job's table (glue_jobs.transforms.raw_stream).
STREAMED_LINE_SCHEMA = "raw_event string, kafka_timestamp timestamp"


@dataclass(frozen=True)
class RawEventSources:
    """Where the raw lines are: landed JSON Lines and the streaming job's table (either may be
    None or not exist yet, not both)."""

    landed: str | None = None
    streamed: str | None = None


def read_raw_lines(spark: SparkSession, sources: RawEventSources) -> DataFrame:
    """Every raw line of the sources that exist, as `value` and `received_at`."""
    frames = []
    if sources.landed and exists(spark, sources.landed):
        frames.append(
            spark.read.text(sources.landed).select(
                "value", sf.col("_metadata.file_modification_time").alias("received_at")
            )
        )
    if sources.streamed and exists(spark, sources.streamed):
        frames.append(
            # The two columns by name: no schema to infer, so a table the streaming job has
            # not written a file to yet reads as empty instead of failing.
            spark.read.schema(STREAMED_LINE_SCHEMA)
            .parquet(sources.streamed)
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


def run_curation(
    spark: SparkSession,
    sources: RawEventSources,
    curated_root: str,
    watermark: datetime | None,
    allowed_lateness: timedelta,
    gate: QualityGate,
) -> dict[str, int]:
    """Curate the raw lines; returns the outcome counts (they add up to received)."""
    raw = read_raw_lines(spark, sources)
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
        events = assign_sessions(curated_events(classified)).persist()
        # Events first, so the sessions read them from the cache; then the rest side by side.
        staged_events = outputs[CURATED_EVENTS].write(events)
        derived = {
            CURATED_SESSIONS: summarize_sessions(events),
            QUARANTINE: quarantined_events(classified).withColumn(
                CURATED_PARTITIONS[QUARANTINE], sf.to_date("received_at")
            ),
        }
        staged_sessions, _ = map_concurrently(
            lambda name: outputs[name].write(derived[name]), derived
        )
        checked = {CURATED_EVENTS: staged_events, CURATED_SESSIONS: staged_sessions}
        events.unpersist()
        counts = curation_counts(lines).collect()[0].asDict()
        lines.unpersist()  # the gate's aggregations need the memory more
        gate.check(checked, reference_counts={"raw_events": counts["received"]})
        for output in outputs.values():
            output.promote(spark)
        return counts
    finally:
        lines.unpersist()
        remove(spark, staging)


class CurateArguments(GateArguments):
    curated_uri: str
    events_path: str | None = None
    stream_events_path: str | None = None
    watermark: IsoDatetime | None = None
    allowed_lateness_hours: float = DEFAULT_ALLOWED_LATENESS_HOURS

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
    )
    report("curate_events", counts)


if __name__ == "__main__":
    main()
