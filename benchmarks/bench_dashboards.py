"""Seconds and page weight of `ecom dashboards build` on a warehouse, beside a baseline build
on an empty one (the fixed cost: definitions, the Vega-Lite bundle in every page).

    python benchmarks/bench_dashboards.py --warehouse .local/bench/warehouse.duckdb \
        [--database-url URL] [--customers-times N] [--repeat 3]

The warehouse is one `ecom batch run` (or benchmarks/bench_batch.py) loaded; the database
holds the realtime tables the stream processor filled (the live datasets), none when absent.
--customers-times N copies the warehouse first and multiplies its per-customer tables
(mart_rfm_segments, customer_features, customer_scores) N times under new user ids, and
--products-times M its per-product tables (mart_product_performance, mart_products,
mart_inventory_health) M times under new product ids: a shop with N times the customers and
M times the catalog, when the batch at that size cannot be run here. Prints figures; asserts
nothing. Goal (issue 13): under 10 s, and under 5 MB a page.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from local_platform.dashboards.datasets import run_datasets
from local_platform.dashboards.site import write_site
from quicksight_templates.loader import load_definitions

PER_KEY_TABLES = {
    "user_id": ("mart_rfm_segments", "customer_features", "customer_scores"),
    "product_id": ("mart_product_performance", "mart_products", "mart_inventory_health"),
}


def multiplied_copy(warehouse: Path, times: dict[str, int], folder: Path) -> Path:
    """A copy of the warehouse whose per-customer (per-product) tables hold `times[key]`
    copies of each row, the copies' keys shifted past the largest one."""
    copy = folder / "warehouse.duckdb"
    shutil.copyfile(warehouse, copy)
    with duckdb.connect(str(copy)) as connection:
        tables = {name for (name,) in connection.execute("SHOW TABLES").fetchall()}
        for key, count in times.items():
            for table in PER_KEY_TABLES[key]:
                if table in tables and count > 1:
                    _multiply(connection, table, key, count)
    return copy


def _multiply(connection: duckdb.DuckDBPyConnection, table: str, key: str, count: int) -> None:
    (top,) = connection.execute(f"SELECT max({key}) FROM {table}").fetchone()
    columns = [row[0] for row in connection.execute(f"DESCRIBE {table}").fetchall()]
    shifted = ", ".join(
        f"{key} + {top or 0} * copy AS {key}" if name == key else name for name in columns
    )
    connection.execute(
        f"INSERT INTO {table} SELECT {shifted} FROM {table}, range(1, {count}) AS copies(copy)"
    )


def build_once(warehouse: Path, database_url: str | None, out: Path) -> tuple[float, dict]:
    """Seconds for the whole build (load, every dataset, every page) and bytes per page."""
    started = time.perf_counter()
    definitions = load_definitions()
    rows = run_datasets(definitions, list(definitions.datasets), warehouse, database_url)
    pages = write_site(definitions, rows, out, "the benchmark")
    seconds = time.perf_counter() - started
    return seconds, {page.dashboard_id: page.bytes for page in pages}


def measure(warehouse: Path, database_url: str | None, repeat: int) -> tuple[list[float], dict]:
    times, weights = [], {}
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as out:
            seconds, weights = build_once(warehouse, database_url, Path(out) / "site")
        times.append(seconds)
    return times, weights


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, required=True)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--customers-times", type=int, default=1)
    parser.add_argument("--products-times", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if not args.warehouse.exists():
        parser.error(f"no warehouse at {args.warehouse}: run `ecom batch run` first")

    with tempfile.TemporaryDirectory() as scratch:
        warehouse = args.warehouse
        if args.customers_times > 1 or args.products_times > 1:
            times = {"user_id": args.customers_times, "product_id": args.products_times}
            warehouse = multiplied_copy(args.warehouse, times, Path(scratch))
        with duckdb.connect(str(warehouse), read_only=True) as connection:
            (customers,) = connection.execute("SELECT count(*) FROM mart_rfm_segments").fetchone()
            (days,) = connection.execute(
                "SELECT count(DISTINCT order_date) FROM mart_sales_daily"
            ).fetchone()
            (products,) = connection.execute(
                "SELECT count(*) FROM mart_product_performance"
            ).fetchone()
        baseline_times, baseline_weights = measure(
            Path(scratch) / "empty.duckdb", None, args.repeat
        )
        times, weights = measure(warehouse, args.database_url, args.repeat)

    live = "read" if args.database_url else "not read"
    print(f"ecom dashboards build, median of {args.repeat}: {customers:,} customers in the RFM "
          f"mart, {products:,} products, {days} order days; live tables {live}")  # fmt: skip
    base, full = statistics.median(baseline_times), statistics.median(times)
    print(f"{'':<22} {'empty warehouse':>16} {'this warehouse':>16} {'ratio':>7}")
    print(f"{'seconds':<22} {base:>16.2f} {full:>16.2f} {full / base:>7.2f}")
    for dashboard, size in weights.items():
        empty = baseline_weights[dashboard]
        print(f"{dashboard + '.html':<22} {empty / 1e6:>13.2f} MB {size / 1e6:>13.2f} MB "
              f"{size / empty:>7.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
