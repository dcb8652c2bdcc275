"""Glue job build_recommendations: curated events and the raw OLTP extracts -> the
recommendation tables, written to the marts zone and loaded into PostgreSQL's reco schema
for the API. Thin: arguments and I/O here, the models in
glue_jobs.transforms.recommendations (see docs/personalization.md).

The load replaces reco.similar_products, reco.customer_recommendations and
reco.popular_products and records the run in reco.batch_runs in one transaction, over one
JDBC connection from the driver (COPY through the PostgreSQL driver the extract job already
ships), so the API sees a whole run or the previous one.

Arguments (Glue style): --raw_uri, --curated_uri, --marts_uri (zone roots), the database as
--database_secret_id (an RDS secret, on AWS) or --jdbc_url and --jdbc_user (password from
PGPASSWORD), optional --as_of (YYYY-MM-DD: the models see what happened before the start of
that day, UTC; default today), --run_id (default the start time), --holdout_days (> 0: also
evaluate on the last that many days against popularity and random, written to
reco_holdout_metrics), --similar_per_product, --recommendations_per_customer, --min_support.
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, ClassVar

from pydantic import Field
from pyspark.sql import DataFrame, SparkSession

from contracts.lake import (
    CURATED_EVENTS,
    RECO_HOLDOUT_METRICS,
    RECO_TABLES,
    Lake,
)
from glue_jobs.jdbc import DatabaseArguments, JdbcSource, read_query
from glue_jobs.job_runtime import IsoDate, cutoff_of, job_arguments, job_spark_session, report
from glue_jobs.lake import read_oltp_table, write_table
from glue_jobs.parallel import started_beside
from glue_jobs.transforms.frames import materialized
from glue_jobs.transforms.recommendation_metrics import HoldoutReport, holdout_evaluation
from glue_jobs.transforms.recommendations import (
    RecommendationSettings,
    build_recommendations,
    catalog_products,
    interactions,
    materialized_interactions,
    model_events,
)

COUNTERS_QUERY = "SELECT product_id, views, cart_adds, units_sold FROM realtime.product_counters"
# Rows per COPY chunk sent from the driver.
COPY_CHUNK_ROWS = 20_000
# Columns of each reco table as the loader writes them (the V007 migration's order).
RECO_COLUMNS: dict[str, tuple[str, ...]] = {
    "similar_products": (
        "product_id", "relation", "rank", "similar_product_id", "score", "support",
    ),
    "customer_recommendations": (
        "user_id", "rank", "product_id", "score", "reason", "reason_product_id",
        "reason_category_id",
    ),
    "popular_products": (
        "product_id", "category_id", "score", "rank_overall", "rank_in_category",
    ),
}  # fmt: skip


def _csv_chunks(rows: Iterable[Any], columns: Sequence[str]) -> Iterable[bytes]:
    """Rows as CSV (empty field = NULL) in chunks of COPY_CHUNK_ROWS."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for count, row in enumerate(rows, start=1):
        writer.writerow(["" if row[name] is None else row[name] for name in columns])
        if count % COPY_CHUNK_ROWS == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode()


def load_reco_tables(
    spark: SparkSession, source: JdbcSource, tables: dict[str, DataFrame], run_id: str, as_of: date
) -> dict[str, int]:
    """Replace the reco tables with `tables` (name -> frame) and insert the batch_runs row,
    in one transaction on a JDBC connection opened by the driver; rows are counted as
    PostgreSQL received them."""
    jvm = spark.sparkContext._jvm
    properties = jvm.java.util.Properties()
    properties.setProperty("user", source.user)
    if source.password is not None:
        properties.setProperty("password", source.password)
    connection = jvm.org.postgresql.Driver().connect(source.url, properties)
    if connection is None:
        raise ValueError(f"the PostgreSQL driver does not accept {source.url}")
    try:
        connection.setAutoCommit(False)
        copier = jvm.org.postgresql.copy.CopyManager(connection)
        statement = connection.createStatement()
        counts: dict[str, int] = {}
        for table, columns in RECO_COLUMNS.items():
            # DELETE, not TRUNCATE: readers keep the previous run until the commit.
            statement.executeUpdate(f"DELETE FROM reco.{table}")  # noqa: S608 names from RECO_COLUMNS
            copy = copier.copyIn(
                f"COPY reco.{table} ({', '.join(columns)}) FROM STDIN (FORMAT csv)"
            )
            for chunk in _csv_chunks(tables[table].toLocalIterator(), columns):
                copy.writeToCopy(chunk, 0, len(chunk))
            counts[table] = int(copy.endCopy())
        insert = connection.prepareStatement(
            "INSERT INTO reco.batch_runs (run_id, as_of, similar_products,"
            " customer_recommendations, popular_products) VALUES (?, ?, ?, ?, ?)"
        )
        insert.setString(1, run_id)
        insert.setDate(2, jvm.java.sql.Date.valueOf(as_of.isoformat()))
        for position, table in enumerate(RECO_COLUMNS, start=3):
            insert.setInt(position, counts[table])
        insert.executeUpdate()
        connection.commit()
        return counts
    except BaseException:
        connection.rollback()
        raise
    finally:
        connection.close()


def realtime_counters(spark: SparkSession, source: JdbcSource) -> DataFrame:
    """realtime.product_counters as the stream processor keeps them (empty before any)."""
    return read_query(spark, source, COUNTERS_QUERY)


def run_recommendations(
    spark: SparkSession,
    lake: Lake,
    source: JdbcSource,
    as_of: date,
    run_id: str,
    settings: RecommendationSettings,
    holdout_days: int = 0,
) -> dict[str, Any]:
    """Read, build, write the lake tables, load PostgreSQL, and evaluate on a holdout when
    asked; returns the rows loaded per table, the interactions read and, with a holdout,
    NDCG@10 per target and model.

    The holdout is a second model, built on a thread of its own while the first is built and
    loaded: each is a chain of small Spark jobs the driver plans one at a time, so two chains
    keep both cores busy where one leaves the second mostly idle."""
    events = materialized(model_events(spark.read.parquet(lake.curated_table(CURATED_EVENTS))))
    orders, order_items, products = (
        materialized(read_oltp_table(spark, lake, table))
        for table in ("orders", "order_items", "products")
    )
    cutoff = cutoff_of(as_of)

    def evaluated() -> HoldoutReport | None:
        if holdout_days == 0:
            return None
        split = cutoff - timedelta(days=holdout_days)
        return holdout_evaluation(
            events, orders, order_items, products, split, holdout_days, settings
        )

    with started_beside(evaluated) as holdout:
        seen = materialized_interactions(interactions(events, orders, order_items, cutoff))
        built = build_recommendations(
            seen,
            catalog_products(products),
            cutoff,
            settings,
            counters=realtime_counters(spark, source),
        )
        frames = {
            "similar_products": materialized(built.similar_products),
            "customer_recommendations": materialized(built.customer_recommendations),
            "popular_products": materialized(built.popular_products),
        }
        for name, frame in frames.items():
            write_table(frame, lake.mart(RECO_TABLES[name]), None)
        rows: dict[str, Any] = load_reco_tables(spark, source, frames, run_id, as_of)
        read = (seen.views, seen.cart_adds, seen.purchases)
        rows["interactions"] = sum(frame.count() for frame in read)
        evaluation = holdout.result()
    if evaluation is not None:
        write_holdout(spark, evaluation, lake)
        rows["holdout"] = {
            f"{row['target']}/{row['model']}": round(row["ndcg"], 4) for row in evaluation.rows()
        }
    return rows


def write_holdout(spark: SparkSession, holdout: HoldoutReport, lake: Lake) -> None:
    schema = (
        "cutoff timestamp, horizon_days int, target string, model string, k int, users int,"
        " hit_rate double, recall double, ndcg double"
    )
    frame = spark.createDataFrame([tuple(row.values()) for row in holdout.rows()], schema).coalesce(
        1
    )
    write_table(frame, lake.mart(RECO_HOLDOUT_METRICS), None)


class RecommendationArguments(DatabaseArguments):
    job_name: ClassVar[str] = "build_recommendations"
    raw_uri: str
    curated_uri: str
    marts_uri: str
    as_of: IsoDate | None = None
    run_id: str | None = None
    holdout_days: int = Field(default=0, ge=0, le=90)
    similar_per_product: int = Field(default=RecommendationSettings.similar_per_product, ge=1)
    recommendations_per_customer: int = Field(
        default=RecommendationSettings.recommendations_per_customer, ge=1, le=200
    )
    min_support: int = Field(default=RecommendationSettings.min_support, ge=1)

    @property
    def lake(self) -> Lake:
        return Lake(raw=self.raw_uri, curated=self.curated_uri, marts=self.marts_uri)

    @property
    def settings(self) -> RecommendationSettings:
        return replace(
            RecommendationSettings(),
            similar_per_product=self.similar_per_product,
            recommendations_per_customer=self.recommendations_per_customer,
            min_support=self.min_support,
        )


def main(argv: Sequence[str] = sys.argv) -> None:
    args = job_arguments(argv, RecommendationArguments)
    started = datetime.now(UTC)
    as_of = args.as_of or started.date()
    run_id = args.run_id or started.strftime("%Y%m%dT%H%M%S%fZ")
    spark = job_spark_session("build_recommendations", needs_extra_jars=True)
    figures = run_recommendations(
        spark, args.lake, args.source(), as_of, run_id, args.settings, args.holdout_days
    )
    report("build_recommendations", figures)


if __name__ == "__main__":
    main()
