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
from sagemaker_pipelines.steps.oltp_scores import upsert_scores as upsert_day


def load_scores_into_warehouse(warehouse: Path, lake: Lake) -> int:
    """Rebuild the warehouse's customer_scores table from the lake; its row count."""
    load = warehouse_loads()[CUSTOMER_SCORES]
    return load_table(warehouse, load.table, load.lake_folder(lake))


def upsert_scores(database_url: str, scores: pd.DataFrame, as_of: str) -> int:
    """Insert or replace one day's scores in the OLTP table (the scoring job's statement);
    rows written."""
    with psycopg.connect(database_url) as connection:
        return upsert_day(connection, scores, as_of)
