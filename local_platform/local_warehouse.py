"""The local warehouse: a DuckDB file with the Redshift tables' names, columns and types,
loaded from the marts' Parquet in the lake, so docs/queries.md runs on one machine.

Loading is idempotent: each table is recreated from the lake inside one transaction (the lake
already holds every partition the jobs published), so a re-load gives the same tables and a
failed load leaves the previous ones. The data-quality results table comes along too.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from contracts.lake import QUALITY_RESULTS, Lake
from contracts.warehouse.loads import warehouse_loads
from contracts.warehouse.tables import WarehouseTable
from local_platform.paths import LOCAL_HOME

DEFAULT_WAREHOUSE = LOCAL_HOME / "warehouse.duckdb"


def _parquet_files(folder: str) -> str | None:
    """A glob over a table folder's Parquet files (partition folders included), or None when
    the folder holds none (DuckDB refuses an empty glob)."""
    if not any(Path(folder).rglob("*.parquet")):
        return None
    return str(Path(folder) / "**" / "*.parquet").replace("'", "''")


def _replace_table(
    connection: duckdb.DuckDBPyConnection, table: WarehouseTable, folder: str
) -> int:
    columns = ", ".join(
        f"{column.name} {column.type}{' NOT NULL' if column.not_null else ''}"
        for column in table.columns
    )
    connection.execute(f"CREATE OR REPLACE TABLE {table.name} ({columns})")
    files = _parquet_files(folder)
    if files is not None:
        casts = ", ".join(f"CAST({column.name} AS {column.type})" for column in table.columns)
        connection.execute(
            f"INSERT INTO {table.name} SELECT {casts} "  # noqa: S608 contract identifiers, path quoted
            f"FROM read_parquet('{files}', hive_partitioning = true)"
        )
    return connection.execute(f"SELECT count(*) FROM {table.name}").fetchone()[0]  # noqa: S608 table name from the warehouse contract


def load_table(warehouse: Path, table: WarehouseTable, folder: str) -> int:
    """Recreate one table from every partition under its lake folder, as the marts are; rows."""
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute("SET TimeZone = 'UTC'")
        connection.execute("BEGIN TRANSACTION")
        rows = _replace_table(connection, table, folder)
        connection.execute("COMMIT")
    return rows


def load_local_warehouse(warehouse: Path, lake: Lake) -> dict[str, int]:
    """Recreate every warehouse table (contracts/warehouse/loads.py: the marts and the
    customer scores) and dq_results from the lake; rows per table."""
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    loaded = {}
    with duckdb.connect(str(warehouse)) as connection:
        # Timestamps are UTC instants; casting them to TIMESTAMP must not shift them.
        connection.execute("SET TimeZone = 'UTC'")
        for name, load in warehouse_loads().items():
            connection.execute("BEGIN TRANSACTION")
            loaded[name] = _replace_table(connection, load.table, load.lake_folder(lake))
            connection.execute("COMMIT")
        results = _parquet_files(lake.quality_results)
        if results is not None:
            connection.execute(
                f"CREATE OR REPLACE TABLE {QUALITY_RESULTS} AS "  # noqa: S608 path quoted by _parquet_files
                f"SELECT * FROM read_parquet('{results}', hive_partitioning = true)"
            )
            loaded[QUALITY_RESULTS] = connection.execute(
                f"SELECT count(*) FROM {QUALITY_RESULTS}"  # noqa: S608 QUALITY_RESULTS is a constant
            ).fetchone()[0]
    return loaded
