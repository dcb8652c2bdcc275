"""load_warehouse: the SQL it sends (written out by hand here), one transaction per batch of
whole partitions, and the Data API conversation, checked with botocore's Stubber."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import ANY, Stubber

from contracts.warehouse.data_api import DataApi, StatementFailedError, StatementTimeoutError
from contracts.warehouse.tables import mart_tables
from glue_jobs.load_warehouse import (
    LIVE_COLUMNS_SQL,
    MAX_STATEMENTS_PER_BATCH,
    LoadArguments,
    RedshiftTarget,
    SchemaChanges,
    SchemaDriftError,
    live_column_types,
    load_batches,
    load_tables,
    partition_values,
    schema_changes,
)

MARTS = "s3://marts-bucket/zone"
CURATED = "s3://curated-bucket/lake"
ROLE = "arn:aws:iam::123456789012:role/warehouse-copy"
TARGET = RedshiftTarget(
    database="analytics",
    workgroup_name="ecommerce-dev",
    secret_arn="arn:aws:secretsmanager:eu-west-1:123456789012:secret:admin",
    copy_role=ROLE,
)
FUNNEL_COLUMNS = (
    "channel, sessions, product_view_sessions, add_to_cart_sessions, checkout_sessions, "
    "purchase_sessions, orders, dropoff_to_product_view, dropoff_to_add_to_cart, "
    "dropoff_to_checkout, dropoff_to_purchase"
)


def _funnel_partition(day: str) -> list[str]:
    return [
        "COPY stage_mart_funnel_daily FROM "
        f"'{MARTS}/mart_funnel_daily/session_date={day}/part-' "
        f"IAM_ROLE '{ROLE}' FORMAT AS PARQUET",
        f"INSERT INTO mart_funnel_daily ({FUNNEL_COLUMNS}, session_date) "
        f"SELECT {FUNNEL_COLUMNS}, DATE '{day}' FROM stage_mart_funnel_daily",
        "DELETE FROM stage_mart_funnel_daily",
    ]


FUNNEL_BATCH = [
    "CREATE TEMP TABLE stage_mart_funnel_daily (channel VARCHAR(16), sessions BIGINT, "
    "product_view_sessions BIGINT, add_to_cart_sessions BIGINT, checkout_sessions BIGINT, "
    "purchase_sessions BIGINT, orders BIGINT, dropoff_to_product_view DOUBLE PRECISION, "
    "dropoff_to_add_to_cart DOUBLE PRECISION, dropoff_to_checkout DOUBLE PRECISION, "
    "dropoff_to_purchase DOUBLE PRECISION)",
    "DELETE FROM mart_funnel_daily WHERE session_date IN (DATE '2026-09-29', DATE '2026-09-30')",
    *_funnel_partition("2026-09-29"),
    *_funnel_partition("2026-09-30"),
]


def _without_ddl(batch: list[str], table: str) -> list[str]:
    ddl, *rest = batch
    assert ddl.startswith(f"CREATE TABLE IF NOT EXISTS {table} (")
    assert "--" not in ddl  # comments stay in the contract file
    return rest


def test_a_whole_table_is_replaced_from_a_staging_copy_in_one_transaction():
    (batch,) = load_batches(
        mart_tables()["mart_cohort_retention"], f"{MARTS}/mart_cohort_retention", None, []
    )
    assert "DISTSTYLE ALL" in batch[0]
    columns = "cohort_week, weeks_since, cohort_size, active_customers, retention_rate"
    assert _without_ddl(batch, "mart_cohort_retention") == [
        "CREATE TEMP TABLE stage_mart_cohort_retention (cohort_week DATE, weeks_since INTEGER, "
        "cohort_size BIGINT, active_customers BIGINT, retention_rate DOUBLE PRECISION)",
        "COPY stage_mart_cohort_retention FROM 's3://marts-bucket/zone/mart_cohort_retention/"
        "part-' IAM_ROLE default FORMAT AS PARQUET",
        "DELETE FROM mart_cohort_retention",
        f"INSERT INTO mart_cohort_retention ({columns}) "
        f"SELECT {columns} FROM stage_mart_cohort_retention",
    ]


def test_partitions_are_copied_one_by_one_and_replaced_together():
    (batch,) = load_batches(
        mart_tables()["mart_funnel_daily"],
        f"{MARTS}/mart_funnel_daily",
        "session_date",
        ["2026-09-29", "2026-09-30"],
        TARGET.iam_role,
    )
    assert _without_ddl(batch, "mart_funnel_daily") == FUNNEL_BATCH


def test_many_partitions_split_into_transactions_of_whole_partitions():
    days = [f"2026-09-{day:02d}" for day in range(1, 14)]  # 13 partitions
    batches = load_batches(
        mart_tables()["mart_funnel_daily"], f"{MARTS}/mart_funnel_daily", "session_date", days
    )
    assert [len(batch) for batch in batches] == [3 + 3 * 12, 3 + 3 * 1]
    assert all(len(batch) <= MAX_STATEMENTS_PER_BATCH for batch in batches)
    assert batches[1][2] == (
        "DELETE FROM mart_funnel_daily WHERE session_date IN (DATE '2026-09-13')"
    )
    copied = [s for batch in batches for s in batch if s.startswith("COPY")]
    assert [s.split("session_date=")[1][:10] for s in copied] == days


@pytest.mark.parametrize("value", ["2026-13-01", "2026-09-30'; DROP TABLE users; --"])
def test_partition_values_must_be_dates(value):
    with pytest.raises(ValueError, match=r"Invalid isoformat|month must be in"):
        load_batches(mart_tables()["mart_funnel_daily"], MARTS, "session_date", [value])


def test_partition_values_are_read_from_the_folder_names():
    s3 = boto3.client("s3", region_name="eu-west-1")
    with Stubber(s3) as stub:
        stub.add_response(
            "list_objects_v2",
            {
                "CommonPrefixes": [
                    {"Prefix": "zone/mart_funnel_daily/_temporary/"},
                    {"Prefix": "zone/mart_funnel_daily/session_date=2026-09-29/"},
                    {"Prefix": "zone/mart_funnel_daily/session_date=2026-09-30/"},
                ],
                "IsTruncated": False,
            },
            {"Bucket": "marts-bucket", "Prefix": "zone/mart_funnel_daily/", "Delimiter": "/"},
        )
        values = partition_values(s3, f"{MARTS}/mart_funnel_daily", "session_date")
    assert values == ["2026-09-29", "2026-09-30"]


WHERE = {
    "WorkgroupName": "ecommerce-dev",
    "Database": "analytics",
    "SecretArn": TARGET.secret_arn,
}


def _fields(row: tuple) -> list[dict]:
    """An information_schema row as the Data API sends it."""
    return [
        {"isNull": True} if value is None
        else {"longValue": value} if isinstance(value, int)
        else {"stringValue": value}
        for value in row
    ]  # fmt: skip


def _expect_live_columns(stub: Stubber, table: str, pages: list[list[tuple]]) -> None:
    """The column query for `table`, answered in `pages` of information_schema rows (none:
    the table does not exist)."""
    stub.add_response(
        "execute_statement",
        {"Id": f"columns-{table}"},
        {**WHERE, "Sql": LIVE_COLUMNS_SQL,
         "Parameters": [{"name": "table_name", "value": table}]},
    )  # fmt: skip
    stub.add_response("describe_statement", {"Id": f"columns-{table}", "Status": "FINISHED"})
    for number, rows in enumerate(pages or [[]], start=1):
        more = {"NextToken": f"page-{number + 1}"} if number < len(pages) else {}
        stub.add_response(
            "get_statement_result",
            {"Records": [_fields(row) for row in rows], **more},
            {"Id": f"columns-{table}", **({"NextToken": f"page-{number}"} if number > 1 else {})},
        )


def test_load_runs_each_batch_and_waits_for_it():
    s3 = boto3.client("s3", region_name="eu-west-1")
    data = boto3.client("redshift-data", region_name="eu-west-1")
    naps: list[float] = []
    with Stubber(s3) as s3_stub, Stubber(data) as data_stub:
        s3_stub.add_response(
            "list_objects_v2",
            {
                "CommonPrefixes": [
                    {"Prefix": "zone/mart_funnel_daily/session_date=2026-09-29/"},
                    {"Prefix": "zone/mart_funnel_daily/session_date=2026-09-30/"},
                ],
                "IsTruncated": False,
            },
            {"Bucket": "marts-bucket", "Prefix": "zone/mart_funnel_daily/", "Delimiter": "/"},
        )
        _expect_live_columns(data_stub, "mart_funnel_daily", [])
        data_stub.add_response(
            "batch_execute_statement",
            {"Id": "stmt-1"},
            {**WHERE, "Sqls": ANY, "StatementName": "load_mart_funnel_daily_1_of_1"},
        )
        data_stub.add_response("describe_statement", {"Id": "stmt-1", "Status": "STARTED"})
        data_stub.add_response("describe_statement", {"Id": "stmt-1", "Status": "FINISHED"})
        runner = DataApi(data, TARGET, poll_interval_s=0.5, sleep=naps.append)

        loaded = load_tables(s3, runner, {"marts": MARTS}, ["mart_funnel_daily"], TARGET.iam_role)

        data_stub.assert_no_pending_responses()
    assert loaded == {"mart_funnel_daily": 2}
    assert naps == [0.5]


def test_a_failed_batch_is_reported_with_redshifts_error():
    data = boto3.client("redshift-data", region_name="eu-west-1")
    with Stubber(data) as stub:
        stub.add_response("batch_execute_statement", {"Id": "stmt-2"}, None)
        stub.add_response(
            "describe_statement",
            {"Id": "stmt-2", "Status": "FAILED", "Error": "permission denied for relation x"},
        )
        runner = DataApi(data, TARGET, sleep=lambda _: None)
        with pytest.raises(StatementFailedError, match="permission denied for relation x"):
            runner.run_batch(["SELECT 1"], "load_x_1_of_1")


def test_a_batch_still_running_at_the_deadline_is_cancelled():
    data = boto3.client("redshift-data", region_name="eu-west-1")
    ticks = iter([0.0, 5.0, 11.0])
    with Stubber(data) as stub:
        stub.add_response("batch_execute_statement", {"Id": "stmt-3"}, None)
        stub.add_response("describe_statement", {"Id": "stmt-3", "Status": "STARTED"})
        stub.add_response("describe_statement", {"Id": "stmt-3", "Status": "STARTED"})
        stub.add_response("cancel_statement", {"Status": True}, {"Id": "stmt-3"})
        runner = DataApi(
            data, TARGET, timeout_s=10, sleep=lambda _: None, clock=lambda: next(ticks)
        )
        with pytest.raises(StatementTimeoutError, match="load_x_1_of_1: still STARTED after 10 s"):
            runner.run_batch(["SELECT 1"], "load_x_1_of_1")
        stub.assert_no_pending_responses()


def test_a_target_names_exactly_one_warehouse():
    with pytest.raises(ValueError, match="exactly one"):
        RedshiftTarget(database="analytics")
    cluster = RedshiftTarget(database="analytics", cluster_identifier="c1", db_user="loader")
    assert cluster.connection() == {
        "ClusterIdentifier": "c1", "Database": "analytics", "DbUser": "loader",
    }  # fmt: skip
    assert cluster.iam_role == "default"


class RecordingDataApi:
    """Stands in for DataApi (our own class): keeps each batch and statement sent, runs
    nothing; the warehouse holds the tables of `live` (information_schema rows)."""

    def __init__(self, live: dict[str, list[tuple]] | None = None) -> None:
        self.batches: list[tuple[str, list[str]]] = []
        self.statements: list[str] = []
        self.live = live or {}

    def run_batch(self, statements: list[str], name: str) -> None:
        self.batches.append((name, statements))

    def run(self, sql: str) -> None:
        self.statements.append(sql)

    def rows(self, sql: str, parameters: list[tuple[str, str]]) -> list[tuple]:
        assert sql == LIVE_COLUMNS_SQL
        ((_, table),) = parameters
        return self.live.get(table, [])


SCORE_COLUMNS = (
    "user_id, churn_probability, churn_band, p_alive, expected_orders_90d, "
    "expected_orders_365d, expected_revenue_365d, clv_365d, action_segment, top_drivers, "
    "new_customer, churn_model_version, clv_model_version, scored_at"
)


def test_the_scores_load_replaces_their_newest_seven_days_from_the_curated_zone():
    s3 = boto3.client("s3", region_name="eu-west-1")
    # Nine scored days, listed out of order, and a folder that is not a partition.
    days = ["2026-11-29", "2026-11-22", "2026-11-30", "2026-11-25", "2026-11-23"]
    days += ["2026-11-24", "2026-11-28", "2026-11-26", "2026-11-27"]
    with Stubber(s3) as stub:
        stub.add_response(
            "list_objects_v2",
            {
                "CommonPrefixes": [
                    {"Prefix": "lake/customer_scores/_tmp/"},
                    *({"Prefix": f"lake/customer_scores/as_of={day}/"} for day in days),
                ],
                "IsTruncated": False,
            },
            {"Bucket": "curated-bucket", "Prefix": "lake/customer_scores/", "Delimiter": "/"},
        )
        api = RecordingDataApi()
        loaded = load_tables(
            s3, api, {"marts": MARTS, "curated": CURATED}, ["customer_scores"], TARGET.iam_role
        )
    assert loaded == {"customer_scores": 7}
    ((name, batch),) = api.batches
    assert name == "load_customer_scores_1_of_1"
    staging, delete, *per_day = _without_ddl(batch, "customer_scores")
    assert staging.startswith("CREATE TEMP TABLE stage_customer_scores (user_id BIGINT, ")
    assert "as_of" not in staging
    newest = [f"2026-11-{day}" for day in range(24, 31)]
    assert delete == (
        "DELETE FROM customer_scores WHERE as_of IN ("
        + ", ".join(f"DATE '{day}'" for day in newest)
        + ")"
    )
    assert per_day == [
        statement
        for day in newest
        for statement in (
            f"COPY stage_customer_scores FROM '{CURATED}/customer_scores/as_of={day}/part-' "
            f"IAM_ROLE '{ROLE}' FORMAT AS PARQUET",
            f"INSERT INTO customer_scores ({SCORE_COLUMNS}, as_of) "
            f"SELECT {SCORE_COLUMNS}, DATE '{day}' FROM stage_customer_scores",
            "DELETE FROM stage_customer_scores",
        )
    ]


def test_a_table_is_loaded_only_from_a_zone_given_and_only_if_the_contract_lists_it():
    api = RecordingDataApi()
    with pytest.raises(ValueError, match="customer_scores is loaded from the curated zone"):
        load_tables(None, api, {"marts": MARTS}, ["customer_scores"])
    with pytest.raises(ValueError, match="not warehouse tables: mart_nothing"):
        load_tables(None, api, {"marts": MARTS}, ["mart_sales_daily", "mart_nothing"])
    assert api.batches == []


MART_NAMES = (
    "mart_sales_daily",
    "mart_funnel_daily",
    "mart_sessions_daily",
    "mart_cohort_retention",
    "mart_rfm_segments",
    "mart_product_performance",
    "mart_products",
    "mart_inventory_health",
    "mart_quarantine_daily",
    "customer_features",
)


def test_by_default_every_table_of_the_given_zones_is_loaded():
    warehouse = {"database": "analytics", "workgroup_name": "ecommerce-dev"}
    marts_only = LoadArguments(marts_uri=MARTS, **warehouse)
    assert marts_only.zone_uris == {"marts": MARTS}
    assert marts_only.chosen_tables == MART_NAMES
    both = LoadArguments(marts_uri=MARTS, curated_uri=CURATED, **warehouse)
    assert both.zone_uris == {"marts": MARTS, "curated": CURATED}
    assert both.chosen_tables == (*MART_NAMES, "customer_scores")
    chosen = LoadArguments(marts_uri=MARTS, tables="customer_scores,mart_sales_daily", **warehouse)
    assert chosen.chosen_tables == ("customer_scores", "mart_sales_daily")
    assert both.target == RedshiftTarget(database="analytics", workgroup_name="ecommerce-dev")


# mart_products as information_schema describes it once every column is as the contract has it.
PRODUCTS = [
    ("product_id", "bigint", None, 64, 0),
    ("sku", "character varying", 64, None, None),
    ("product_name", "character varying", 256, None, None),
    ("brand", "character varying", 128, None, None),
    ("category_id", "bigint", None, 64, 0),
    ("category_name", "character varying", 256, None, None),
    ("price", "numeric", None, 12, 2),
    ("status", "character varying", 16, None, None),
]
# As an earlier release created it: without brand (now the 4th column) and status (the last),
# and with a narrower product_name; sku wider than the contract's.
OLD_PRODUCTS = [
    ("product_id", "bigint", None, 64, 0),
    ("sku", "character varying", 128, None, None),
    ("product_name", "character varying", 128, None, None),
    ("category_id", "bigint", None, 64, 0),
    ("category_name", "character varying", 256, None, None),
    ("price", "numeric", None, 12, 2),
]


def test_information_schema_types_read_as_the_contract_writes_them():
    assert live_column_types(PRODUCTS) == {
        column.name: column.type for column in mart_tables()["mart_products"].columns
    }
    assert live_column_types(
        [("a", "timestamp without time zone", None, None, None), ("b", "boolean", None, None,
         None), ("c", "double precision", None, 53, None), ("d", "integer", None, 32, 0)]
    ) == {"a": "TIMESTAMP", "b": "BOOLEAN", "c": "DOUBLE PRECISION", "d": "INTEGER"}  # fmt: skip


def test_a_table_from_an_earlier_release_gets_the_columns_added_and_widened_since():
    products = mart_tables()["mart_products"]

    assert schema_changes(products, live_column_types(OLD_PRODUCTS)) == SchemaChanges(
        added=[
            "ALTER TABLE mart_products ADD COLUMN brand VARCHAR(128)",
            "ALTER TABLE mart_products ADD COLUMN status VARCHAR(16)",
        ],
        # sku stays at 128: a wider column than the contract's holds every value.
        widened=["ALTER TABLE mart_products ALTER COLUMN product_name TYPE VARCHAR(256)"],
    )
    assert schema_changes(products, live_column_types(PRODUCTS)) == SchemaChanges([], [])
    # Not created yet: the load's DDL creates it.
    assert schema_changes(products, {}) == SchemaChanges([], [])


def test_a_table_with_columns_the_contract_dropped_or_retyped_is_refused_by_name():
    products = mart_tables()["mart_products"]
    live = live_column_types(
        [PRODUCTS[0], ("cost", "numeric", None, 12, 2), *PRODUCTS[1:6],
         ("price", "numeric", None, 10, 2), PRODUCTS[7], ("margin", "real", None, 24, None)]
    )  # fmt: skip
    with pytest.raises(SchemaDriftError) as refused:
        schema_changes(products, live)
    assert str(refused.value) == (
        "mart_products in the warehouse differs from its contract (cost is not in the contract"
        " any more; margin is not in the contract any more; price is DECIMAL(10,2) there and"
        " DECIMAL(12,2) in the contract); nothing was loaded. Change the table by hand (ALTER"
        " TABLE mart_products ...) or drop it: the next load recreates it from the lake."
    )
    # A VARCHAR the contract made a number is no widening either.
    text_ids = [("product_id", "character varying", 16, None, None), *PRODUCTS[1:]]
    with pytest.raises(SchemaDriftError, match=r"\(product_id is VARCHAR\(16\) there and BIGINT"):
        schema_changes(products, live_column_types(text_ids))


def test_the_load_changes_the_schema_before_its_batches_and_stops_on_drift():
    s3 = boto3.client("s3", region_name="eu-west-1")
    api = RecordingDataApi({"mart_products": OLD_PRODUCTS})
    loaded = load_tables(s3, api, {"marts": MARTS}, ["mart_products"])

    assert loaded == {"mart_products": 1}
    changes = schema_changes(mart_tables()["mart_products"], live_column_types(OLD_PRODUCTS))
    (added, (load_name, load)) = api.batches
    assert added == ("add_columns_mart_products", changes.added)
    # The widening runs on its own: Redshift alters a column's type outside a transaction.
    assert api.statements == changes.widened
    assert load_name == "load_mart_products_1_of_1"
    # The insert names its columns: in the altered table brand and status come last.
    assert load[-1].startswith(
        "INSERT INTO mart_products (product_id, sku, product_name, brand, category_id, "
    )

    # A drifted table stops the run before any table is touched (the first would have been
    # loaded from S3 partitions: the unstubbed client would have failed on the listing).
    drifted = RecordingDataApi({"mart_products": [*PRODUCTS, ("cost", "numeric", None, 12, 2)]})
    with pytest.raises(SchemaDriftError, match=r"\(cost is not in the contract any more\)"):
        load_tables(s3, drifted, {"marts": MARTS}, ["mart_funnel_daily", "mart_products"])
    assert (drifted.batches, drifted.statements) == ([], [])


def test_a_complete_table_read_over_two_result_pages_is_loaded_without_alteration():
    s3 = boto3.client("s3", region_name="eu-west-1")
    data = boto3.client("redshift-data", region_name="eu-west-1")
    with Stubber(data) as stub:
        _expect_live_columns(stub, "mart_products", [PRODUCTS[:5], PRODUCTS[5:]])
        stub.add_response("batch_execute_statement", {"Id": "stmt-4"}, None)
        stub.add_response("describe_statement", {"Id": "stmt-4", "Status": "FINISHED"})
        runner = DataApi(data, TARGET, sleep=lambda _: None)

        assert load_tables(s3, runner, {"marts": MARTS}, ["mart_products"]) == {"mart_products": 1}
        stub.assert_no_pending_responses()


def test_query_rows_come_back_as_plain_values_with_null_as_none():
    data = boto3.client("redshift-data", region_name="eu-west-1")
    fields = [{"longValue": 7}, {"isNull": True}, {"stringValue": "web"}, {"doubleValue": 0.5}]
    with Stubber(data) as stub:
        stub.add_response("execute_statement", {"Id": "q"}, None)
        stub.add_response("describe_statement", {"Id": "q", "Status": "FINISHED"})
        stub.add_response("get_statement_result", {"Records": [fields, [{"booleanValue": True}]]})
        rows = DataApi(data, TARGET, sleep=lambda _: None).rows("SELECT ...")
    assert rows == [[7, None, "web", 0.5], [True]]
