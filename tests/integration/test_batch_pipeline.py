"""The batch pipeline end to end on a small generated store, on the real PostgreSQL (JDBC),
local Spark and DuckDB, with every figure cross-checked against a second source: the OLTP
tables through psycopg, the clickstream file read line by line, or the transform run again on
inputs cut at the cutoff.

The store is generated and the pipeline run once for the module (then once more through the
CLI, which must change nothing); the tests that change the database come last.
"""

from __future__ import annotations

import gzip
import json
import re
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import psycopg
import pytest
from psycopg.conninfo import make_conninfo
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as sf
from typer.testing import CliRunner

from contracts.lake import (
    CURATED_EVENTS,
    CURATED_SESSIONS,
    Lake,
    local_state_folder,
)
from contracts.marts import MART_PARTITIONS
from contracts.quality import load_job_rules
from contracts.warehouse.queries import analyst_queries
from contracts.warehouse.tables import mart_tables
from data_generators import GenerationSettings, generate_store
from glue_jobs.extract_oltp import ReadSettings, TableExtract, load_watermarks, run_extract
from glue_jobs.lake import read_oltp_table
from glue_jobs.quality import QualityGate, QualityGateError
from glue_jobs.transforms.marts import prepared
from glue_jobs.transforms.marts.customer_features import customer_features
from glue_jobs.transforms.marts.customers import RFM_SEGMENT_RULES
from glue_jobs.transforms.oltp import SOURCE_TABLES
from local_platform.batch_pipeline import BatchSettings, StageReport, jdbc_source, run_batch
from local_platform.cli import app

pytestmark = pytest.mark.integration
STORE = GenerationSettings(users=150, days=21, seed=11)
STAGES = ["extract", "curate", "marts", "recommendations", "quality", "load"]  # in order


@dataclass
class Pipeline:
    url: str
    events: Path
    lake: Lake
    lake_root: Path
    warehouse: Path
    as_of: date
    first_run: list[StageReport]
    rerun_output: str
    rerun_exit_code: int
    tables_before_rerun: dict[str, list[tuple]]
    raw_files_before_rerun: list[str]

    def warehouse_rows(self, sql: str, parameters: tuple = ()) -> list[tuple]:
        with duckdb.connect(str(self.warehouse), read_only=True) as connection:
            return connection.execute(sql, parameters).fetchall()

    def shop_rows(self, sql: str, parameters: tuple = ()) -> list[tuple]:
        with psycopg.connect(self.url) as conn:
            return conn.execute(sql, parameters).fetchall()


def _table_contents(warehouse: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return {
            name: sorted(connection.execute(f"SELECT * FROM {name}").fetchall(), key=repr)
            for name in mart_tables()
        }


def _files(folder: Path) -> list[str]:
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*.parquet"))


@pytest.fixture(scope="module")
def shop_database(postgres_server_url: str) -> Iterator[str]:
    name = f"test_batch_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield make_conninfo(postgres_server_url, dbname=name)
    with psycopg.connect(postgres_server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def pipeline(
    spark: SparkSession, shop_database: str, tmp_path_factory: pytest.TempPathFactory
) -> Pipeline:
    folder = tmp_path_factory.mktemp("batch")
    events = folder / "events.jsonl.gz"
    generate_store(STORE, shop_database, events_out=events, progress=False)
    settings = BatchSettings(
        database_url=shop_database,
        events=events,
        lake=folder / "lake",
        warehouse=folder / "warehouse.duckdb",
        # Small slices, so the larger tables are read in parallel ranges.
        read_settings=ReadSettings(rows_per_partition=200, max_partitions=4),
    )
    first_run = run_batch(settings)
    tables_before, raw_before = _table_contents(settings.warehouse), _files(folder / "lake/raw")
    rerun = CliRunner().invoke(
        app,
        [
            "batch", "run", "--database-url", shop_database, "--events", str(events),
            "--lake", str(settings.lake), "--warehouse", str(settings.warehouse),
        ],
    )  # fmt: skip
    return Pipeline(
        url=shop_database,
        events=events,
        lake=Lake.in_folder(str(settings.lake)),
        lake_root=settings.lake,
        warehouse=settings.warehouse,
        as_of=STORE.end_date,
        first_run=first_run,
        rerun_output=rerun.output,
        rerun_exit_code=rerun.exit_code,
        tables_before_rerun=tables_before,
        raw_files_before_rerun=raw_before,
    )


def _event_lines(path: Path) -> list[dict]:
    with gzip.open(path, "rt") as lines:
        return [json.loads(line) for line in lines]


def test_each_stage_reports_counts_in_and_out_that_match_the_sources(pipeline):
    stages = {report.stage: report for report in pipeline.first_run}
    assert list(stages) == STAGES
    shop_rows = {
        table.name: pipeline.shop_rows(f"SELECT count(*) FROM {table.name}")[0][0]
        for table in SOURCE_TABLES
    }
    assert dict(stages["extract"].details) == shop_rows
    assert stages["extract"].rows_in == stages["extract"].rows_out == sum(shop_rows.values())
    lines = len(_event_lines(pipeline.events))
    assert (stages["curate"].rows_in, stages["curate"].rows_out) == (lines, lines)
    marts = stages["marts"].details
    assert set(marts) == set(MART_PARTITIONS)
    assert stages["load"].rows_out == stages["load"].rows_in == sum(marts.values())
    every_rule = sum(
        len(rules)
        for job in ("extract_oltp", "curate_events", "build_marts")
        for rules in load_job_rules(job).tables.values()
    )
    quality = stages["quality"]
    assert quality.rows_in == every_rule
    assert quality.rows_in - quality.rows_out == sum(quality.details.values())


def test_the_recommendations_read_every_interaction_and_load_postgresql(pipeline):
    reco = {report.stage: report for report in pipeline.first_run}["recommendations"]
    kinds = Counter(event["event_type"] for event in _event_lines(pipeline.events))
    order_lines = pipeline.shop_rows("SELECT count(*) FROM order_items")[0][0]
    assert reco.rows_in == kinds["product_viewed"] + kinds["product_added_to_cart"] + order_lines
    # The CLI's rerun replaced the tables with the same rows and recorded a second run.
    loaded = {
        table: pipeline.shop_rows(f"SELECT count(*) FROM reco.{table}")[0][0]
        for table in reco.details
    }
    assert dict(reco.details) == loaded
    assert min(loaded.values()) > 0
    runs = pipeline.shop_rows(
        "SELECT as_of, similar_products, customer_recommendations, popular_products"
        " FROM reco.batch_runs"
    )
    assert runs == [(pipeline.as_of, *loaded.values())] * 2


def test_large_tables_are_read_in_parallel_ranges(pipeline):
    sessions = pipeline.shop_rows("SELECT count(*) FROM sessions")[0][0]
    assert sessions > 2 * 200  # enough rows for more than two slices
    files = list((pipeline.lake_root / "raw/oltp/sessions/extract_batch=full").glob("*.parquet"))
    assert len(files) > 1  # one file per parallel read


def test_mart_revenue_equals_the_sum_of_oltp_order_totals_per_day(pipeline):
    mart = pipeline.warehouse_rows(
        "SELECT order_date, sum(revenue) FROM mart_sales_daily GROUP BY 1 ORDER BY 1"
    )
    shop = pipeline.shop_rows(
        "SELECT (placed_at AT TIME ZONE 'UTC')::date, sum(total) FROM orders"
        " WHERE status <> 'cancelled' GROUP BY 1 ORDER BY 1"
    )
    assert len(mart) > 10
    assert mart == shop


def test_funnel_purchases_equal_the_order_completed_events(pipeline):
    completed = sum(
        event["event_type"] == "order_completed" for event in _event_lines(pipeline.events)
    )
    (total,) = pipeline.warehouse_rows("SELECT sum(orders) FROM mart_funnel_daily")[0]
    assert total == completed > 0


def test_every_buying_customer_is_in_exactly_one_rfm_segment(pipeline):
    rows = pipeline.warehouse_rows(
        "SELECT user_id, segment FROM mart_rfm_segments WHERE as_of = ?", (pipeline.as_of,)
    )
    buyers = pipeline.shop_rows(
        "SELECT DISTINCT user_id FROM orders WHERE status <> 'cancelled' AND placed_at < %s",
        (datetime.combine(pipeline.as_of, datetime.min.time(), UTC),),
    )
    users = [user for user, _ in rows]
    assert len(users) == len(set(users))
    assert sorted(users) == sorted(user for (user,) in buyers)
    assert {segment for _, segment in rows} <= {name for name, _ in RFM_SEGMENT_RULES}


def test_every_analyst_query_runs_on_the_warehouse(pipeline):
    results = {name: pipeline.warehouse_rows(sql) for name, sql in analyst_queries().items()}

    (shop_revenue,) = pipeline.shop_rows(
        "SELECT sum(total) FROM orders WHERE status <> 'cancelled'"
    )[0]
    assert sum(row[1] for row in results["revenue_by_week"]) == shop_revenue
    reached = [row[1] for row in results["funnel_dropoffs"]]
    assert len(reached) == 5
    assert reached == sorted(reached, reverse=True)
    (buyers,) = pipeline.warehouse_rows("SELECT count(*) FROM mart_rfm_segments")[0]
    assert sum(row[1] for row in results["segment_sizes"]) == buyers
    assert all(row[1] in ("cannot_lose", "at_risk") for row in results["at_risk_customers"])
    assert all(row[2] in ("out_of_stock", "high", "medium") for row in results["stockout_risks"])


def test_warehouse_columns_follow_the_mart_files(pipeline):
    with duckdb.connect() as connection:
        for name, table in mart_tables().items():
            first_file = sorted((pipeline.lake_root / "marts" / name).rglob("*.parquet"))[0]
            described = connection.execute(
                "DESCRIBE SELECT * FROM read_parquet(?, hive_partitioning = false)",
                [str(first_file)],
            ).fetchall()
            in_file = [column[0] for column in described]
            partition = MART_PARTITIONS[name]
            assert table.column_names == in_file + ([partition] if partition else []), name


def _rows_in_lookback(pipeline: Pipeline, table: str, watermarks: dict[str, datetime]) -> int:
    """Rows stamped within the look-back before the table's watermark (none without one)."""
    if table not in watermarks:
        return 0
    end = watermarks[table]
    sql = f"SELECT count(*) FROM {table} WHERE updated_at > %s AND updated_at <= %s"
    return pipeline.shop_rows(sql, (end - ReadSettings().lookback, end))[0][0]


def test_a_rerun_changes_nothing(pipeline):
    assert pipeline.rerun_exit_code == 0, pipeline.rerun_output
    for stage in STAGES:
        assert f"{stage} " in pipeline.rerun_output
    # The extract re-reads its look-back (rows already copied) and writes nothing.
    watermarks = load_watermarks(local_state_folder(str(pipeline.lake_root)))
    reread = sum(_rows_in_lookback(pipeline, table.name, watermarks) for table in SOURCE_TABLES)
    assert reread > 0
    assert re.search(rf"extract +{reread:,} rows in → 0 out", pipeline.rerun_output)
    # Curation finds no event file it has not curated (its manifest in the lake's state).
    assert re.search(r"curate +0 rows in → 0 out", pipeline.rerun_output)
    assert _files(pipeline.lake_root / "raw") == pipeline.raw_files_before_rerun
    assert _table_contents(pipeline.warehouse) == pipeline.tables_before_rerun


def _before(frame: DataFrame, column: str, cutoff: datetime) -> DataFrame:
    return frame.filter(sf.col(column) < sf.lit(cutoff))


def test_customer_features_hold_nothing_from_after_the_cutoff(pipeline, spark):
    lake = pipeline.lake
    users, orders, tickets = (
        read_oltp_table(spark, lake, name) for name in ("users", "orders", "support_tickets")
    )
    events = spark.read.parquet(lake.curated_table(CURATED_EVENTS))
    sessions = spark.read.parquet(lake.curated_table(CURATED_SESSIONS))
    cutoff = datetime.combine(pipeline.as_of - timedelta(days=7), datetime.min.time(), UTC)
    # The inputs as they stood at the cutoff: later rows gone, later refunds not yet made.
    refunded_later = sf.col("refunded_at") >= sf.lit(cutoff)
    orders_then = (
        _before(orders, "placed_at", cutoff)
        .withColumn(
            "refunded_amount",
            sf.when(refunded_later, sf.lit(Decimal("0.00"))).otherwise(sf.col("refunded_amount")),
        )
        .withColumn("refunded_at", sf.when(~refunded_later, sf.col("refunded_at")))
    )

    def features(
        users: DataFrame,
        orders: DataFrame,
        sessions: DataFrame,
        tickets: DataFrame,
        events: DataFrame,
        at: datetime,
    ) -> list[tuple]:
        frame = customer_features(
            prepared.users(users), prepared.orders(orders), sessions,
            prepared.support_tickets(tickets), prepared.events(events), at,
        )  # fmt: skip
        return sorted(tuple(row) for row in frame.collect())

    everything = features(users, orders, sessions, tickets, events, at=cutoff)
    as_then = features(
        _before(users, "signed_up_at", cutoff), orders_then,
        _before(sessions, "started_at", cutoff), _before(tickets, "opened_at", cutoff),
        _before(events, "occurred_at", cutoff), at=cutoff,
    )  # fmt: skip
    assert everything == as_then
    # Moving the cutoff a week later changes the features: the comparison is not vacuous.
    later = datetime.combine(pipeline.as_of, datetime.min.time(), UTC)
    assert features(users, orders, sessions, tickets, events, at=later) != everything


def _raw_state(pipeline: Pipeline) -> tuple[dict[str, bytes], dict]:
    raw = {
        name: (pipeline.lake_root / "raw" / name).read_bytes()
        for name in _files(pipeline.lake_root / "raw")
    }
    return raw, load_watermarks(local_state_folder(str(pipeline.lake_root)))


def _replica(conn: psycopg.Connection) -> None:
    """Write updated_at as given: the trigger that stamps now() is off in replica mode."""
    conn.execute("SET session_replication_role = replica")


@contextmanager
def _order_of_an_unknown_user(pipeline: Pipeline, order_id: int, user_id: int) -> Iterator[None]:
    """An order changed after the extract's watermark whose user does not exist (replica mode
    lets it in), which fails the extract's referential rule; deleted afterwards."""
    (watermark,) = pipeline.shop_rows("SELECT max(updated_at) FROM orders")[0]
    with psycopg.connect(pipeline.url) as conn:
        _replica(conn)
        conn.execute(
            "INSERT INTO orders (id, user_id, status, currency, payment_method, subtotal, total,"
            " placed_at, updated_at) VALUES (%s, %s, 'placed', 'USD', 'card', 10, 10, %s, %s)",
            (order_id, user_id, watermark, watermark + timedelta(hours=1)),
        )
    try:
        yield
    finally:
        with psycopg.connect(pipeline.url) as conn:
            conn.execute("DELETE FROM orders WHERE id = %s", (order_id,))


def test_a_failing_rule_blocks_the_extract_and_keeps_the_previous_outputs(pipeline, spark):
    before = _raw_state(pipeline)
    as_of = datetime.combine(pipeline.as_of, datetime.min.time(), UTC)
    gate = QualityGate("extract_oltp", "bad-run", as_of, pipeline.lake.quality_results)
    with (
        _order_of_an_unknown_user(pipeline, 900001, 999999),
        pytest.raises(QualityGateError) as raised,
    ):
        run_extract(
            spark, jdbc_source(pipeline.url), pipeline.lake.raw,
            local_state_folder(str(pipeline.lake_root)), gate,
        )  # fmt: skip

    failed = [(f.table, f.rule) for f in raised.value.failures]
    assert ("orders", 'ReferentialIntegrity "user_id" "users.id" = 1.0') in failed
    assert _raw_state(pipeline) == before
    recorded = (
        spark.read.parquet(pipeline.lake.quality_results)
        .filter("run_id = 'bad-run' AND NOT passed")
        .select("table_name", "rule")
        .collect()
    )
    assert [tuple(row) for row in recorded] == failed


def test_a_failed_extract_stops_the_batch_once_curation_beside_it_has_ended(pipeline, spark):
    """Extract and curate run side by side: the failure is raised after curation ended (and
    was reported, its gate recorded); marts and recommendations do not start, and the raw
    tables stay."""
    before = _raw_state(pipeline)
    marts = pipeline.lake_root / "marts"
    marts_before = [name for name in _files(marts) if not name.startswith("dq_results/")]
    settings = BatchSettings(
        database_url=pipeline.url,
        events=pipeline.events,
        lake=pipeline.lake_root,
        warehouse=pipeline.warehouse,
        as_of=pipeline.as_of,
        full_curation=True,  # a curation with nothing new would evaluate no rules
    )
    reports: list[StageReport] = []
    with (
        _order_of_an_unknown_user(pipeline, 900002, 999998),
        pytest.raises(QualityGateError, match="extract_oltp"),
    ):
        run_batch(settings, on_stage=reports.append, run_id="stopped-run")

    assert [report.stage for report in reports] == ["curate"]
    first_curation = {report.stage: report for report in pipeline.first_run}["curate"]
    assert (reports[0].rows_in, reports[0].rows_out) == (
        first_curation.rows_in, first_curation.rows_out
    )  # fmt: skip
    assert _raw_state(pipeline) == before
    assert [name for name in _files(marts) if not name.startswith("dq_results/")] == marts_before
    recorded = (
        spark.read.parquet(pipeline.lake.quality_results)
        .filter("run_id = 'stopped-run'")
        .select("job")
        .distinct()
        .collect()
    )
    assert sorted(row["job"] for row in recorded) == ["curate_events", "extract_oltp"]


def _insert_user(conn: psycopg.Connection, user_id: int, stamped: datetime) -> None:
    conn.execute(
        "INSERT INTO users (id, email, first_name, last_name, country_code, city,"
        " acquisition_channel, signed_up_at, updated_at) VALUES (%s, %s, 'Ada', 'Byron', 'GB',"
        " 'London', 'direct', %s, %s)",
        (user_id, f"user{user_id}@example.com", stamped, stamped),
    )


def _extract(
    pipeline: Pipeline, spark: SparkSession, run_id: str, as_of: datetime
) -> list[TableExtract]:
    state = local_state_folder(str(pipeline.lake_root))
    gate = QualityGate("extract_oltp", run_id, as_of)
    return run_extract(spark, jdbc_source(pipeline.url), pipeline.lake.raw, state, gate)


def test_an_incremental_extract_takes_only_rows_changed_after_the_watermark(pipeline, spark):
    state = local_state_folder(str(pipeline.lake_root))
    watermarks = load_watermarks(state)
    later = max(watermarks.values()) + timedelta(days=1)
    changed_orders = [row[0] for row in pipeline.shop_rows("SELECT id FROM orders LIMIT 2")]
    with psycopg.connect(pipeline.url) as conn:
        _replica(conn)
        conn.execute(
            "UPDATE orders SET status = 'delivered', updated_at = %s WHERE id = ANY(%s)",
            (later, changed_orders),
        )
        _insert_user(conn, 900002, stamped=later)

    extracts = _extract(pipeline, spark, "incremental-run", later)

    # In: the new versions plus what the look-back re-reads (already copied, not written).
    new = {"orders": 2, "users": 1}
    changed = {item.table: (item.rows_changed, item.rows_written) for item in extracts}
    assert changed == {
        name: (_rows_in_lookback(pipeline, name, watermarks) + new.get(name, 0), new.get(name, 0))
        for name in (table.name for table in SOURCE_TABLES)
    }
    assert {item.table for item in extracts if item.batch} == set(new)
    batch = f"after-{watermarks['orders'].strftime('%Y%m%dT%H%M%S%fZ')}"
    new_batch = spark.read.parquet(str(pipeline.lake_root / "raw/oltp/orders")).filter(
        sf.col("extract_batch") == batch
    )
    assert sorted(row.id for row in new_batch.collect()) == sorted(changed_orders)
    current = read_oltp_table(spark, pipeline.lake, "orders")
    assert current.count() == pipeline.shop_rows("SELECT count(*) FROM orders")[0][0]
    assert {row.status for row in current.filter(sf.col("id").isin(changed_orders)).collect()} == {
        "delivered"
    }
    moved = load_watermarks(state)
    assert moved["orders"] == moved["users"] == later
    assert moved["sessions"] == watermarks["sessions"]


def test_rows_committed_late_with_an_older_stamp_are_still_copied(pipeline, spark):
    # A transaction that began before the last extract stamps updated_at with its start time
    # and commits after the watermark was taken: its rows are older than the watermark.
    state = local_state_folder(str(pipeline.lake_root))
    watermark = load_watermarks(state)["users"]
    stamped = watermark - timedelta(minutes=5)
    with psycopg.connect(pipeline.url) as conn:
        _replica(conn)
        _insert_user(conn, 900003, stamped=stamped)

    extracts = _extract(pipeline, spark, "late-commit-run", watermark)

    users = next(item for item in extracts if item.table == "users")
    assert users.rows_written == 1
    current = read_oltp_table(spark, pipeline.lake, "users")
    assert current.filter(sf.col("id") == 900003).count() == 1
    assert current.count() == pipeline.shop_rows("SELECT count(*) FROM users")[0][0]
