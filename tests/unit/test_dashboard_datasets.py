"""The dashboards' dataset SQL: read alike by Redshift and DuckDB (sqlglot), run on a DuckDB
warehouse made from the contract's DDL (the types the local warehouse creates), with figures
worked out by hand on a few rows; missing tables give an empty dataset and the reason."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest
import sqlglot
from dashboard_column_types import quicksight_type

from contracts.warehouse.tables import customer_scores_table, mart_tables
from local_platform.dashboards.datasets import NO_WAREHOUSE, run_datasets
from quicksight_templates.loader import Definitions, load_definitions

DEFINITIONS = load_definitions()
WAREHOUSE_DATASETS = [
    key for key, item in DEFINITIONS.datasets.items() if item.source == "warehouse"
]
LIVE_DATASETS = [key for key, item in DEFINITIONS.datasets.items() if item.source == "live"]
# The quality gate's results table, as glue_jobs/quality.py writes it (RESULTS_SCHEMA).
DQ_RESULTS = (
    "CREATE TABLE dq_results (job VARCHAR, run_id VARCHAR, table_name VARCHAR, rule VARCHAR,"
    " check_type VARCHAR, severity VARCHAR, passed BOOLEAN, observed VARCHAR,"
    " reference_time TIMESTAMP, evaluated_at TIMESTAMP)"
)


@pytest.mark.parametrize("dataset_id", WAREHOUSE_DATASETS)
def test_redshift_and_duckdb_read_the_sql_alike(dataset_id: str):
    sql = DEFINITIONS.sql[dataset_id]

    assert sqlglot.parse_one(sql, read="redshift") == sqlglot.parse_one(sql, read="duckdb")


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT orders / units FROM mart_sales_daily",  # integer division on Redshift only
        "SELECT revenue FROM mart_sales_daily ORDER BY aov DESC",  # NULLs first on Redshift
    ],
)
def test_the_dialect_check_catches_sql_the_engines_read_differently(sql: str):
    assert sqlglot.parse_one(sql, read="redshift") != sqlglot.parse_one(sql, read="duckdb")


@pytest.mark.parametrize("dataset_id", LIVE_DATASETS)
def test_live_sql_is_postgresql(dataset_id: str):
    parsed = sqlglot.parse_one(DEFINITIONS.sql[dataset_id], read="postgres")

    assert {table.db for table in parsed.find_all(sqlglot.exp.Table)} <= {"realtime", ""}


def _warehouse(path: Path, *, scores: bool = True) -> Path:
    """Every warehouse table from its DDL (as ecom batch run creates them), empty."""
    tables = [*mart_tables().values(), *([customer_scores_table()] if scores else [])]
    with duckdb.connect(str(path)) as connection:
        for table in tables:
            columns = ", ".join(f"{column.name} {column.type}" for column in table.columns)
            connection.execute(f"CREATE TABLE {table.name} ({columns})")
        connection.execute(DQ_RESULTS)
    return path


def _insert(path: Path, table: str, rows: list[tuple]) -> None:
    with duckdb.connect(str(path)) as connection:
        marks = ", ".join("?" for _ in rows[0])
        connection.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)


def test_every_warehouse_dataset_returns_its_declared_columns_and_types(tmp_path: Path):
    warehouse = _warehouse(tmp_path / "w.duckdb")

    with duckdb.connect(str(warehouse), read_only=True) as connection:
        for dataset_id in WAREHOUSE_DATASETS:
            result = connection.execute(DEFINITIONS.sql[dataset_id])
            found = [(name, quicksight_type(str(kind))) for name, kind, *_ in result.description]
            declared = [(c.name, c.type) for c in DEFINITIONS.datasets[dataset_id].columns]
            assert found == declared, dataset_id


def _run(definitions: Definitions, dataset_id: str, warehouse: Path):
    return run_datasets(definitions, [dataset_id], warehouse, None)[dataset_id]


def _ms(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)


def test_customer_activity_splits_new_from_returning_customers(tmp_path: Path):
    warehouse = _warehouse(tmp_path / "w.duckdb")
    # Cohort of 5 Jan: 5 customers, 2 back a week later, 1 two weeks later; cohort of 12 Jan:
    # 3 customers, 1 back a week later.
    _insert(
        warehouse,
        "mart_cohort_retention",
        [
            (date(2026, 1, 5), 0, 5, 5, 1.0),
            (date(2026, 1, 5), 1, 5, 2, 0.4),
            (date(2026, 1, 5), 2, 5, 1, 0.2),
            (date(2026, 1, 12), 0, 3, 3, 1.0),
            (date(2026, 1, 12), 1, 3, 1, 1 / 3),
        ],
    )

    rows = _run(DEFINITIONS, "customer_activity_weekly", warehouse)

    assert sorted(rows.rows) == [
        [_ms(date(2026, 1, 5)), 5, 5, 0],
        [_ms(date(2026, 1, 12)), 5, 3, 2],
        [_ms(date(2026, 1, 19)), 2, 0, 2],
    ]


def _stock_positions(as_of: date) -> list[tuple]:
    """mart_inventory_health rows of products 1 (high risk), 2 (low) and 3 (out of stock):
    product, on_hand, lead, configured rp, demand 28d, 7d, avg, sd, safety, rp, cover, risk."""
    return [
        (1, 4, 7, 5, 28, 7, 1.0, 0.5, 2, 10, 4.0, "high", as_of),
        (2, 50, 7, 5, 14, 3, 0.5, 0.2, 1, 5, 100.0, "low", as_of),
        (3, 0, 5, 5, 56, 14, 2.0, 1.0, 3, 13, 0.0, "out_of_stock", as_of),
    ]


def test_reorder_suggestions_and_cover_bands(tmp_path: Path):
    warehouse = _warehouse(tmp_path / "w.duckdb")
    latest, older = date(2026, 3, 2), date(2026, 3, 1)
    _insert(
        warehouse,
        "mart_inventory_health",
        [
            *_stock_positions(latest),
            (4, 9, 7, 5, 0, 0, 0.0, None, 0, 0, None, "low", latest),
            (1, 90, 7, 5, 28, 7, 1.0, 0.5, 2, 10, 90.0, "low", older),
        ],
    )
    _insert(
        warehouse,
        "mart_product_performance",
        [(1, 7, 10, 9, 4, 3, 2, 2, 20.5, 0, 0.4, 0.3, 0.0)],
    )
    # The catalog: product 2 is missing from it, product 4's category is gone.
    _insert(
        warehouse,
        "mart_products",
        [
            (1, "SKU-1", "Oak Rake", "Greenly", 7, "Garden", 12.5, "active"),
            (3, "SKU-3", "Coil Hose", "Greenly", 7, "Garden", 30.0, "discontinued"),
            (4, "SKU-4", "Dome Tent", "Campo", 8, None, 99.0, "active"),
        ],
    )

    rows = _run(DEFINITIONS, "inventory_latest", warehouse)
    by_product = {row[0]: dict(zip(rows.columns, row, strict=True)) for row in rows.rows}
    reorder = _run(DEFINITIONS, "reorder_suggestions", warehouse)
    reorder_rows = {row[0]: dict(zip(reorder.columns, row, strict=True)) for row in reorder.rows}

    assert sorted(by_product) == [1, 2, 3, 4]
    # Below the reorder point: back to it plus 28 days of demand (10 + 28 - 4, 13 + 56 - 0).
    assert {key: row["suggested_order_units"] for key, row in reorder_rows.items()} == {
        1: 34, 3: 69,
    }  # fmt: skip
    # Names and categories come from the catalog, sold or not (product 3 never sold).
    assert [(row["product_name"], row["category_name"]) for row in reorder_rows.values()] == [
        ("Oak Rake", "Garden"), ("Coil Hose", "Garden"),
    ]  # fmt: skip
    assert [by_product[key]["cover_band"] for key in (1, 2, 3, 4)] == [
        "00-06 days", "56+ days", "00-06 days", "no recent demand",
    ]  # fmt: skip
    categories = [
        (by_product[key]["category_name"], by_product[key]["revenue"]) for key in (1, 2, 3, 4)
    ]
    assert categories == [
        ("Garden", 20.5), ("uncategorised", 0.0), ("Garden", 0.0), ("uncategorised", 0.0),
    ]  # fmt: skip


def test_product_performance_names_products_from_the_catalog(tmp_path: Path):
    warehouse = _warehouse(tmp_path / "w.duckdb")
    # product, category, views, view/cart/purchase sessions, orders, units, revenue, refunds, rates
    _insert(
        warehouse,
        "mart_product_performance",
        [
            (1, 7, 10, 9, 4, 3, 2, 2, 20.5, 0, 0.4, 0.3, 0.0),
            (5, 8, 4, 4, 1, 1, 1, 1, 9.0, 1, 0.25, 0.25, 1.0),
        ],
    )
    _insert(
        warehouse,
        "mart_products",
        [(1, "SKU-1", "Oak Rake", "Greenly", 7, "Garden", 12.5, "active")],
    )

    rows = _run(DEFINITIONS, "product_performance", warehouse)
    named = {
        row[0]: (row[rows.columns.index("product_name")], row[rows.columns.index("category_name")])
        for row in rows.rows
    }

    # Product 5 is not in the catalog: its id stands in for its name.
    assert named == {1: ("Oak Rake", "Garden"), 5: ("product 5", "uncategorised")}


def test_products_running_out_are_ranked_and_named_from_the_catalog(tmp_path: Path):
    warehouse = _warehouse(tmp_path / "w.duckdb")
    latest = date(2026, 3, 2)
    _insert(
        warehouse,
        "mart_inventory_health",
        [*_stock_positions(latest), (4, 6, 7, 5, 7, 2, 0.25, 0.1, 1, 8, 24.0, "medium", latest)],
    )
    _insert(
        warehouse,
        "mart_products",
        [
            (3, "SKU-3", "Coil Hose", "Greenly", 7, "Garden", 30.0, "active"),
            (1, "SKU-1", "Oak Rake", "Greenly", 7, "Garden", 12.5, "active"),
        ],
    )

    rows = _run(DEFINITIONS, "stockout_risks", warehouse)

    # Out of stock first, then high, then medium; product 4 is not in the catalog.
    named = [(row[0], row[1], row[2]) for row in rows.rows]
    assert named == [
        (3, "Coil Hose", "out_of_stock"), (1, "Oak Rake", "high"), (4, "product 4", "medium"),
    ]  # fmt: skip


def test_scores_take_the_latest_day_with_clv_deciles_and_churn_tenths(tmp_path: Path):
    warehouse = _warehouse(tmp_path / "w.duckdb")
    latest, older = date(2026, 3, 2), date(2026, 3, 1)
    scored = datetime(2026, 3, 2, 6, tzinfo=UTC)

    def score(user: int, churn: float, clv: float, as_of: date, new: bool = False) -> tuple:
        return (user, churn, "high" if churn >= 0.5 else "low", 0.5, 1.0, 2.0, clv, clv,
                "retain", "[]", new, "churn-1", "clv-1", scored, as_of)  # fmt: skip

    # 20 customers whose CLV is 10 x their id: deciles of two customers each.
    rows = [score(user, (user - 1) / 19, 10.0 * user, latest) for user in range(1, 21)]
    # Three without an order yet, valued as just acquired: ranked among the 23, they would
    # take the top decile (and push users 19 and 20 down); they are decile 0 instead.
    rows += [score(user, 0.5, 5000.0, latest, new=True) for user in (31, 32, 33)]
    rows.append(score(99, 0.2, 5000.0, older))
    _insert(warehouse, "customer_scores", rows)

    result = _run(DEFINITIONS, "customer_scores", warehouse)
    by_user = {row[0]: dict(zip(result.columns, row, strict=True)) for row in result.rows}

    assert sorted(by_user) == [*range(1, 21), 31, 32, 33]
    assert [by_user[user]["clv_decile"] for user in (1, 2, 3, 10, 19, 20)] == [1, 1, 2, 5, 10, 10]
    assert [by_user[user]["clv_decile"] for user in (31, 32, 33)] == [0, 0, 0]
    # churn (user - 1) / 19: user 1 -> 0.0, user 11 -> 0.526, user 20 -> 1.0 (capped into 9).
    assert [by_user[user]["churn_bucket"] for user in (1, 2, 11, 19, 20)] == [0, 0, 5, 9, 9]
    assert [by_user[user]["churn_risk"] for user in (10, 11)] == ["1 low", "3 high"]


def test_a_table_not_loaded_yet_gives_an_empty_dataset_and_its_reason(tmp_path: Path):
    warehouse = _warehouse(tmp_path / "w.duckdb", scores=False)

    scores = _run(DEFINITIONS, "customer_scores", warehouse)
    sales = _run(DEFINITIONS, "sales_daily", warehouse)

    assert scores.rows == []
    assert scores.note == DEFINITIONS.datasets["customer_scores"].empty_message
    assert scores.note.startswith("No scores yet")
    assert (sales.rows, sales.note) == ([], None)


def test_a_missing_warehouse_gives_empty_datasets_that_say_so(tmp_path: Path):
    missing = tmp_path / "none.duckdb"

    result = _run(DEFINITIONS, "funnel_steps", missing)

    assert result.rows == []
    assert result.note == NO_WAREHOUSE.format(path=missing)
    assert not missing.exists()
