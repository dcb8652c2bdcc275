"""Glue job curate_events: raw event lines -> curated `events` and `sessions`, plus the
quarantine. Thin: arguments and I/O here, the rules in glue_jobs.transforms.

Arguments (Glue style): --events_path (JSON Lines file or folder, gzip allowed),
--curated_uri (root of the curated zone), optional --watermark (ISO 8601 with zone; without
it nothing is too late, as on a first run or a backfill) and --allowed_lateness_hours (48).

A line's receive time is the modification time of the file it landed in (the S3 object's
last-modified time in AWS). Outputs are Parquet partitioned by day and replaced per
partition, so re-running on the same input gives the same tables. They are staged first and
published only when contracts/quality/curate_events.yaml passes (plus the quality gate's
arguments, glue_jobs.quality.GATE_ARGUMENTS).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import datetime, timedelta

from pyspark.sql import SparkSession
from pyspark.sql import functions as sf

from glue_jobs.job_runtime import job_arguments, job_spark_session, report
from glue_jobs.lake import CURATED_EVENTS, CURATED_SESSIONS, QUARANTINE, table_path
from glue_jobs.parallel import map_concurrently
from glue_jobs.quality import GATE_ARGUMENTS, QualityGate, gate_from_arguments
from glue_jobs.staging import StagedTable, remove, staging_root
from glue_jobs.transforms.event_schema import spark_event_schema
from glue_jobs.transforms.events import (
    classify_raw_events,
    curated_events,
    curation_counts,
    quarantined_events,
)
from glue_jobs.transforms.sessions import assign_sessions, summarize_sessions

DEFAULT_ALLOWED_LATENESS_HOURS = "48"


def run_curation(
    spark: SparkSession,
    events_path: str,
    curated_root: str,
    watermark: datetime | None,
    allowed_lateness: timedelta,
    gate: QualityGate,
) -> dict[str, int]:
    """Curate one batch of raw lines; returns the outcome counts (they add up to received)."""
    raw = spark.read.text(events_path).select(
        "value", sf.col("_metadata.file_modification_time").alias("received_at")
    )
    # A gzip file cannot be split: one big landing file would otherwise be checked and parsed
    # by one task on one core.
    cores = spark.sparkContext.defaultParallelism
    if raw.rdd.getNumPartitions() < cores:
        raw = raw.repartition(2 * cores)
    classified = classify_raw_events(
        raw,
        event_schema=spark_event_schema(),
        watermark=watermark,
        allowed_lateness=allowed_lateness,
    ).persist()
    staging = staging_root(curated_root, gate.run_id)
    outputs = {
        name: StagedTable(table_path(staging, name), table_path(curated_root, name), partition)
        for name, partition in (
            (CURATED_EVENTS, "event_date"),
            (CURATED_SESSIONS, "session_date"),
            (QUARANTINE, "received_date"),
        )
    }
    try:
        events = assign_sessions(curated_events(classified)).persist()
        # Events first, so the sessions read them from the cache; then the rest side by side.
        staged_events = outputs[CURATED_EVENTS].write(events)
        derived = {
            CURATED_SESSIONS: summarize_sessions(events),
            QUARANTINE: quarantined_events(classified).withColumn(
                "received_date", sf.to_date("received_at")
            ),
        }
        staged_sessions, _ = map_concurrently(
            lambda name: outputs[name].write(derived[name]), derived
        )
        checked = {CURATED_EVENTS: staged_events, CURATED_SESSIONS: staged_sessions}
        events.unpersist()
        counts = curation_counts(classified).collect()[0].asDict()
        classified.unpersist()  # the gate's aggregations need the memory more
        gate.check(checked, reference_counts={"raw_events": counts["received"]})
        for output in outputs.values():
            output.promote(spark)
        return counts
    finally:
        classified.unpersist()
        remove(spark, staging)


def main(argv: Sequence[str] = sys.argv) -> None:
    args = job_arguments(
        argv,
        required=["events_path", "curated_uri"],
        optional={
            "watermark": None,
            "allowed_lateness_hours": DEFAULT_ALLOWED_LATENESS_HOURS,
            **GATE_ARGUMENTS,
        },
    )
    watermark = datetime.fromisoformat(args["watermark"]) if args["watermark"] else None
    lateness = timedelta(hours=float(args["allowed_lateness_hours"] or 0))
    spark = job_spark_session("curate_events")
    gate = gate_from_arguments("curate_events", args)
    counts = run_curation(
        spark, args["events_path"], args["curated_uri"], watermark, lateness, gate
    )
    report("curate_events", counts)


if __name__ == "__main__":
    main()
