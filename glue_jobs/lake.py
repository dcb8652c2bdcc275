"""Where each table lives in the lake: one root per zone (an S3 bucket in AWS, a folder
locally) and the same key layout under it, so the jobs only ever see URIs."""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import DataFrame, SparkSession

from glue_jobs.transforms.oltp import SOURCE_TABLE_BY_NAME, latest_versions

# Raw zone: events as landed (JSON Lines), OLTP extracts as Parquet, one folder per table.
RAW_EVENTS = "events"
RAW_OLTP = "oltp"
# Raw zone, from the events topic: Parquet by event date and hour, and rejected records.
RAW_STREAM_EVENTS = "events_stream"
RAW_STREAM_QUARANTINE = "quarantine/events_stream"
# Curated zone.
CURATED_EVENTS = "events"
CURATED_SESSIONS = "sessions"
QUARANTINE = "quarantine/events"
# Marts zone: table name -> partition column (None: the table is replaced as a whole).
MART_PARTITIONS: dict[str, str | None] = {
    "mart_sales_daily": "order_date",
    "mart_funnel_daily": "session_date",
    "mart_cohort_retention": None,
    "mart_rfm_segments": "as_of",
    "mart_product_performance": None,
    "mart_inventory_health": "as_of",
    "customer_features": "cutoff_date",
}
# Data-quality results of every job run, a table in the marts zone.
QUALITY_RESULTS = "dq_results"
# Job state (extract watermarks) beside the zones: <lake>/state locally, a prefix on S3.
STATE_FOLDER = "state"


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
        return table_path(self.raw, f"{RAW_OLTP}/{table}")

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


def table_path(zone_root: str, table: str) -> str:
    return f"{zone_root.rstrip('/')}/{table}"


def write_table(frame: DataFrame, path: str, partition_column: str | None) -> None:
    """Write Parquet, replacing only the partitions present in `frame` (dynamic partition
    overwrite), or the whole table when it has no partition column: re-runs are idempotent."""
    writer = frame.write.mode("overwrite").option("partitionOverwriteMode", "dynamic")
    if partition_column is not None:
        writer = writer.partitionBy(partition_column)
    writer.parquet(path)


def read_oltp_table(spark: SparkSession, lake: Lake, table: str) -> DataFrame:
    """The current state of a raw OLTP table (latest version per key over its extract
    batches), as the marts read it."""
    batches = spark.read.parquet(lake.raw_table(table))
    return latest_versions(batches, SOURCE_TABLE_BY_NAME[table].keys)
