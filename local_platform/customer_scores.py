"""Where a local scoring run's scores go after the lake: the DuckDB warehouse (the whole
customer_scores table, rebuilt from the lake's partitions as Redshift's load would) and the
OLTP database's ml.customer_scores table (upserted per user_id and as_of, so a re-run of a day
replaces its rows and leaves the other days)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import psycopg

from contracts.lake import CUSTOMER_SCORES, Lake
from contracts.warehouse.loads import warehouse_loads
from local_platform.local_warehouse import load_table

KEY = ("user_id", "as_of")
JSON_COLUMNS = ("top_drivers",)
DATABASE_TABLE = "ml.customer_scores"


def load_scores_into_warehouse(warehouse: Path, lake: Lake) -> int:
    """Rebuild the warehouse's customer_scores table from the lake; its row count."""
    load = warehouse_loads()[CUSTOMER_SCORES]
    return load_table(warehouse, load.table, load.lake_folder(lake))


def upsert_scores(database_url: str, scores: pd.DataFrame, as_of: str) -> int:
    """Insert or replace one day's scores in the OLTP table; rows written."""
    columns = ["as_of", *scores.columns]
    values = [(as_of, *row.values()) for row in scores.to_dict("records")]
    names = ", ".join(columns)
    placeholders = ", ".join("%s::jsonb" if name in JSON_COLUMNS else "%s" for name in columns)
    updates = ", ".join(f"{name} = EXCLUDED.{name}" for name in columns if name not in KEY)
    statement = (
        f"INSERT INTO {DATABASE_TABLE} ({names}) VALUES ({placeholders}) "  # noqa: S608 columns of the project's scores frame
        f"ON CONFLICT ({', '.join(KEY)}) DO UPDATE SET {updates}"
    )
    with psycopg.connect(database_url) as connection, connection.cursor() as cursor:
        cursor.executemany(statement, values)
    return len(values)
