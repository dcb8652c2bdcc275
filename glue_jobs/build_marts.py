"""Glue job build_marts: curated events and sessions, the raw OLTP extracts and the
quarantines -> the marts.
Thin: arguments and I/O here, the rules in glue_jobs.transforms.marts (see docs/marts.md).

Every mart is staged first and all of them are published together only when
contracts/quality/build_marts.yaml passes; otherwise the previous marts stay as they were.

Arguments (Glue style): --raw_uri, --curated_uri, --marts_uri (zone roots), optional --as_of
(YYYY-MM-DD: RFM recency and inventory are computed as of the start of that day; default
today in UTC, which is what the scheduled workflow wants), optional --features_cutoff
(ISO 8601 with zone; default the start of --as_of in UTC) and the quality gate's arguments
(glue_jobs.quality.GateArguments).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as sf

from contracts.lake import (
    CURATED_EVENTS,
    CURATED_SESSIONS,
    QUARANTINE,
    RAW_STREAM_QUARANTINE,
    Lake,
    table_path,
)
from contracts.marts import MART_PARTITIONS
from glue_jobs.job_runtime import (
    IsoDate,
    IsoDatetime,
    cutoff_of,
    job_arguments,
    job_spark_session,
    report,
)
from glue_jobs.lake import read_oltp_table
from glue_jobs.parallel import map_concurrently
from glue_jobs.quality import GateArguments, QualityGate, gate_from_arguments
from glue_jobs.staging import StagedTable, exists, remove, staging_root
from glue_jobs.transforms.marts import prepared
from glue_jobs.transforms.marts.catalog import products_catalog
from glue_jobs.transforms.marts.customer_features import customer_features
from glue_jobs.transforms.marts.customers import cohort_retention, rfm_segments
from glue_jobs.transforms.marts.funnel import funnel_daily
from glue_jobs.transforms.marts.intermediate import (
    order_channels,
    placed_order_lines,
    placed_orders,
)
from glue_jobs.transforms.marts.inventory import inventory_health
from glue_jobs.transforms.marts.quarantine import quarantine_daily
from glue_jobs.transforms.marts.sales import product_performance, sales_daily
from glue_jobs.transforms.marts.sessions import sessions_daily

OLTP_TABLES = (
    "users", "categories", "products", "inventory", "inventory_movements", "sessions",
    "orders", "order_items", "support_tickets",
)  # fmt: skip
# The columns of a quarantine table that mart_quarantine_daily reads (the date is the
# partition column of both quarantines).
QUARANTINE_COLUMNS = "reason string, received_date date"


def read_quarantines(spark: SparkSession, lake: Lake) -> dict[str, DataFrame]:
    """Each stage's quarantine by the job that writes it: curate_events' in the curated zone,
    stream_events_to_raw's in the raw zone. A stage that never rejected a line has a folder
    without data files (read with a schema, as none can be inferred) or, if it never ran, no
    folder at all: both give an empty frame."""
    folders = {
        "curate_events": lake.curated_table(QUARANTINE),
        "stream_events_to_raw": table_path(lake.raw, RAW_STREAM_QUARANTINE),
    }
    return {
        stage: (
            spark.read.schema(QUARANTINE_COLUMNS).parquet(folder).select("reason", "received_date")
            if exists(spark, folder)
            else spark.createDataFrame([], QUARANTINE_COLUMNS)
        )
        for stage, folder in folders.items()
    }


def build_marts(
    oltp: dict[str, DataFrame],
    events: DataFrame,
    sessions: DataFrame,
    quarantines: Mapping[str, DataFrame],
    as_of: date,
    features_cutoff: datetime,
) -> dict[str, DataFrame]:
    """Every mart by table name, from already-loaded inputs (no I/O): the OLTP tables and
    the curated events are prepared, the intermediate order facts built once, and each
    mart reads what it needs of both (glue_jobs.transforms.marts); `quarantines` are the
    stages' quarantine tables (read_quarantines)."""
    orders = prepared.orders(oltp["orders"])
    products = prepared.products(oltp["products"])
    categories = prepared.categories(oltp["categories"])
    clickstream = prepared.events(events)

    placed = placed_orders(orders)
    lines = placed_order_lines(placed, prepared.order_items(oltp["order_items"]))
    channels = order_channels(placed, prepared.sessions(oltp["sessions"]))

    return {
        "mart_sales_daily": sales_daily(lines, channels, products, categories),
        "mart_funnel_daily": funnel_daily(sessions),
        "mart_sessions_daily": sessions_daily(sessions, events),
        "mart_cohort_retention": cohort_retention(placed),
        "mart_rfm_segments": rfm_segments(placed, as_of),
        "mart_product_performance": product_performance(clickstream, lines, products),
        "mart_products": products_catalog(
            prepared.product_attributes(oltp["products"]), categories
        ),
        "mart_inventory_health": inventory_health(
            prepared.inventory(oltp["inventory"]),
            prepared.inventory_movements(oltp["inventory_movements"]),
            as_of,
        ),
        "mart_quarantine_daily": quarantine_daily(quarantines),
        "customer_features": customer_features(
            prepared.users(oltp["users"]), orders, sessions,
            prepared.support_tickets(oltp["support_tickets"]), clickstream, features_cutoff,
        ).withColumn("cutoff_date", sf.to_date("cutoff")),
    }  # fmt: skip


def run_build(
    spark: SparkSession, lake: Lake, as_of: date, features_cutoff: datetime, gate: QualityGate
) -> dict[str, int]:
    """Read the inputs, stage every mart (side by side, glue_jobs.parallel), check, publish;
    returns each mart's row count."""
    oltp = {name: read_oltp_table(spark, lake, name) for name in OLTP_TABLES}
    events = spark.read.parquet(lake.curated_table(CURATED_EVENTS))
    sessions = spark.read.parquet(lake.curated_table(CURATED_SESSIONS))
    quarantines = read_quarantines(spark, lake)
    staging = staging_root(lake.marts, gate.run_id)
    staged = {
        name: StagedTable(table_path(staging, name), lake.mart(name), MART_PARTITIONS[name])
        for name in MART_PARTITIONS
    }
    try:
        frames = build_marts(oltp, events, sessions, quarantines, as_of, features_cutoff)
        written = map_concurrently(lambda name: staged[name].write(frames[name]), frames)
        marts = dict(zip(frames, written, strict=True))
        checked = gate.check(marts, references=oltp)
        for table in staged.values():
            table.promote(spark)
        return checked.rows
    finally:
        remove(spark, staging)


class BuildArguments(GateArguments):
    raw_uri: str
    curated_uri: str
    marts_uri: str
    as_of: IsoDate | None = None
    features_cutoff: IsoDatetime | None = None

    @property
    def lake(self) -> Lake:
        return Lake(raw=self.raw_uri, curated=self.curated_uri, marts=self.marts_uri)


def main(argv: Sequence[str] = sys.argv) -> None:
    args = job_arguments(argv, BuildArguments)
    as_of = args.as_of or datetime.now(UTC).date()
    cutoff = args.features_cutoff or cutoff_of(as_of)
    spark = job_spark_session("build_marts")
    gate = gate_from_arguments("build_marts", args)
    report("build_marts", run_build(spark, args.lake, as_of, cutoff, gate))


if __name__ == "__main__":
    main()
