"""The lake's layout, the one declaration the stacks, the Glue jobs and the local platform
share: zones, the folder of every table in its zone, partition columns, the state folder and
the data-quality metric namespace. Pure names and paths, so a stack can import it without
Spark and a job without aws_cdk.

Each zone has one root (an S3 bucket in AWS, a folder locally) with the same keys under it.
"""

from __future__ import annotations

from dataclasses import dataclass

ZONES = ("raw", "curated", "marts")

# Raw zone: events as landed (JSON Lines), OLTP extracts as Parquet, one folder per table.
RAW_EVENTS = "events"
RAW_OLTP = "oltp"
# Raw zone, from the events topic: Parquet by event date and hour, and rejected records by
# the date and hour they were received.
RAW_STREAM_EVENTS = "events_stream"
RAW_STREAM_QUARANTINE = "quarantine/events_stream"
RAW_STREAM_EVENT_PARTITIONS = ("event_date", "event_hour")
RAW_STREAM_QUARANTINE_PARTITIONS = ("received_date", "received_hour")

# Curated zone: table -> partition column.
CURATED_EVENTS = "events"
CURATED_SESSIONS = "sessions"
QUARANTINE = "quarantine/events"
CURATED_PARTITIONS: dict[str, str] = {
    CURATED_EVENTS: "event_date",
    CURATED_SESSIONS: "session_date",
    QUARANTINE: "received_date",
}
# Curated zone, from the ML scoring pipeline (not curate_events): scores by scoring day.
CUSTOMER_SCORES = "customer_scores"
CUSTOMER_SCORES_PARTITION = "as_of"

# Marts zone: one folder per mart of contracts/marts.yaml (its partition column there), and
# the data-quality results of every job run.
QUALITY_RESULTS = "dq_results"
# CloudWatch namespace of the data-quality metrics the jobs publish and alarms watch.
QUALITY_METRICS_NAMESPACE = "EcommerceAnalytics/DataQuality"

# Marts zone, from build_recommendations: each reco table the API reads (PostgreSQL schema
# reco, contracts/oltp/migrations) by its folder, whole tables replaced on every run, and
# the holdout evaluation of the last run. Every folder starts with RECO_MARTS_PREFIX, the
# only part of the marts zone the job's role may write.
RECO_MARTS_PREFIX = "reco_"
RECO_TABLES: dict[str, str] = {
    name: f"{RECO_MARTS_PREFIX}{name}"
    for name in ("similar_products", "customer_recommendations", "popular_products")
}
RECO_HOLDOUT_METRICS = f"{RECO_MARTS_PREFIX}holdout_metrics"

# The zone each batch job writes its checked tables to (and whose catalog keeps them).
JOB_ZONES: dict[str, str] = {
    "extract_oltp": "raw",
    "curate_events": "curated",
    "build_marts": "marts",
}

# Job state (extract watermarks) beside the zones: <lake>/state locally, a prefix on S3.
STATE_FOLDER = "state"


def job_table_folder(job: str, table: str) -> str:
    """The folder of a table `job` writes, inside the zone of JOB_ZONES: OLTP extracts sit
    under the raw zone's oltp/ folder, every other table at its zone's top."""
    return f"{RAW_OLTP}/{table}" if job == "extract_oltp" else table


def table_path(zone_root: str, table: str) -> str:
    return f"{zone_root.rstrip('/')}/{table}"


@dataclass(frozen=True)
class Lake:
    """Zone roots such as `s3://ecommerce-dev-raw-.../` or `/path/to/lake/raw`."""

    raw: str
    curated: str
    marts: str

    @classmethod
    def in_folder(cls, root: str) -> Lake:
        """The local layout: one sub-folder per zone."""
        base = root.rstrip("/")
        return cls(raw=f"{base}/raw", curated=f"{base}/curated", marts=f"{base}/marts")

    def raw_table(self, table: str) -> str:
        return table_path(self.raw, job_table_folder("extract_oltp", table))

    def curated_table(self, table: str) -> str:
        return table_path(self.curated, table)

    def mart(self, table: str) -> str:
        return table_path(self.marts, table)

    @property
    def quality_results(self) -> str:
        return self.mart(QUALITY_RESULTS)


def local_state_folder(root: str) -> str:
    """The state folder of a lake laid out by `Lake.in_folder(root)`."""
    return table_path(root, STATE_FOLDER)
