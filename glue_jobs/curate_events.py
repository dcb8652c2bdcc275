"""Glue job curate_events: raw event lines -> curated `events` and `sessions`, plus the
quarantine. Thin: arguments and I/O here, the rules in glue_jobs.transforms.

Arguments (Glue style): --events_path (JSON Lines file or folder, gzip allowed),
--curated_uri (root of the curated zone), optional --watermark (ISO 8601 with zone; without
it nothing is too late, as on a first run or a backfill) and --allowed_lateness_hours (48).

A line's receive time is the modification time of the file it landed in (the S3 object's
last-modified time in AWS). Outputs are Parquet partitioned by day and replaced per
partition, so re-running on the same input gives the same tables.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import datetime, timedelta

from pyspark.sql import SparkSession
from pyspark.sql import functions as sf

from glue_jobs.job_runtime import job_arguments, job_spark_session, report
from glue_jobs.lake import CURATED_EVENTS, CURATED_SESSIONS, QUARANTINE, table_path, write_table
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
) -> dict[str, int]:
    """Curate one batch of raw lines; returns the outcome counts (they add up to received)."""
    raw = spark.read.text(events_path).select(
        "value", sf.col("_metadata.file_modification_time").alias("received_at")
    )
    classified = classify_raw_events(
        raw,
        event_schema=spark_event_schema(),
        watermark=watermark,
        allowed_lateness=allowed_lateness,
    ).persist()
    try:
        events = assign_sessions(curated_events(classified)).persist()
        write_table(events, table_path(curated_root, CURATED_EVENTS), "event_date")
        sessions = summarize_sessions(events)
        write_table(sessions, table_path(curated_root, CURATED_SESSIONS), "session_date")
        quarantine = quarantined_events(classified).withColumn(
            "received_date", sf.to_date("received_at")
        )
        write_table(quarantine, table_path(curated_root, QUARANTINE), "received_date")
        events.unpersist()
        return curation_counts(classified).collect()[0].asDict()
    finally:
        classified.unpersist()


def main(argv: Sequence[str] = sys.argv) -> None:
    args = job_arguments(
        argv,
        required=["events_path", "curated_uri"],
        optional={"watermark": None, "allowed_lateness_hours": DEFAULT_ALLOWED_LATENESS_HOURS},
    )
    watermark = datetime.fromisoformat(args["watermark"]) if args["watermark"] else None
    lateness = timedelta(hours=float(args["allowed_lateness_hours"] or 0))
    spark = job_spark_session("curate_events")
    counts = run_curation(spark, args["events_path"], args["curated_uri"], watermark, lateness)
    report("curate_events", counts)


if __name__ == "__main__":
    main()
