"""Glue job build_marts: curated events and sessions plus the raw OLTP extracts -> the marts.
Thin: arguments and I/O here, the rules in glue_jobs.transforms (see docs/marts.md).

Arguments (Glue style): --raw_uri, --curated_uri, --marts_uri (zone roots), --as_of
(YYYY-MM-DD: RFM recency and inventory are computed as of the start of that day) and
optional --features_cutoff (ISO 8601 with zone; default the start of --as_of in UTC).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as sf

from glue_jobs.job_runtime import job_arguments, job_spark_session, report
from glue_jobs.lake import CURATED_EVENTS, CURATED_SESSIONS, MART_PARTITIONS, Lake, write_table
from glue_jobs.transforms.customers import cohort_retention, customer_features, rfm_segments
from glue_jobs.transforms.funnel import funnel_daily
from glue_jobs.transforms.inventory import inventory_health
from glue_jobs.transforms.sales import product_performance, sales_daily

OLTP_TABLES = (
    "users", "categories", "products", "inventory", "inventory_movements", "sessions",
    "orders", "order_items", "support_tickets",
)  # fmt: skip


def build_marts(
    oltp: dict[str, DataFrame],
    events: DataFrame,
    sessions: DataFrame,
    as_of: date,
    features_cutoff: datetime,
) -> dict[str, DataFrame]:
    """Every mart by table name, from already-loaded inputs (no I/O)."""
    return {
        "mart_sales_daily": sales_daily(
            oltp["orders"], oltp["order_items"], oltp["products"], oltp["categories"],
            oltp["sessions"],
        ),
        "mart_funnel_daily": funnel_daily(sessions),
        "mart_cohort_retention": cohort_retention(oltp["orders"]),
        "mart_rfm_segments": rfm_segments(oltp["orders"], as_of),
        "mart_product_performance": product_performance(
            events, oltp["orders"], oltp["order_items"], oltp["products"]
        ),
        "mart_inventory_health": inventory_health(
            oltp["inventory"], oltp["inventory_movements"], as_of
        ),
        "customer_features": customer_features(
            oltp["users"], oltp["orders"], sessions, oltp["support_tickets"], events,
            features_cutoff,
        ).withColumn("cutoff_date", sf.to_date("cutoff")),
    }  # fmt: skip


def run_build(
    spark: SparkSession, lake: Lake, as_of: date, features_cutoff: datetime
) -> dict[str, int]:
    """Read the inputs, write every mart; returns the row count of each written table."""
    oltp = {name: spark.read.parquet(lake.raw_table(name)) for name in OLTP_TABLES}
    events = spark.read.parquet(lake.curated_table(CURATED_EVENTS))
    sessions = spark.read.parquet(lake.curated_table(CURATED_SESSIONS))
    rows = {}
    for name, frame in build_marts(oltp, events, sessions, as_of, features_cutoff).items():
        write_table(frame, lake.mart(name), MART_PARTITIONS[name])
        rows[name] = spark.read.parquet(lake.mart(name)).count()
    return rows


def main(argv: Sequence[str] = sys.argv) -> None:
    args = job_arguments(
        argv,
        required=["raw_uri", "curated_uri", "marts_uri", "as_of"],
        optional={"features_cutoff": None},
    )
    as_of = date.fromisoformat(args["as_of"])
    cutoff = (
        datetime.fromisoformat(args["features_cutoff"])
        if args["features_cutoff"]
        else datetime(as_of.year, as_of.month, as_of.day, tzinfo=UTC)
    )
    lake = Lake(raw=args["raw_uri"], curated=args["curated_uri"], marts=args["marts_uri"])
    spark = job_spark_session("build_marts")
    report("build_marts", run_build(spark, lake, as_of, cutoff))


if __name__ == "__main__":
    main()
