"""The local DuckDB warehouse loads the tables of contracts/warehouse/loads.py, the scores
among them: a batch reload (load_local_warehouse) and a scoring run's reload
(load_scores_into_warehouse) both rebuild customer_scores from every day in the lake's
curated zone, with the warehouse contract's types."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd

from contracts.lake import Lake
from local_platform.customer_scores import load_scores_into_warehouse
from local_platform.local_warehouse import load_local_warehouse
from sagemaker_pipelines.models.scoring import SCORE_COLUMNS
from sagemaker_pipelines.steps.lake_io import write_partition


def _scores(users: list[int], probabilities: list[float], version: str) -> pd.DataFrame:
    count = len(users)
    frame = pd.DataFrame(
        {
            "user_id": users,
            "churn_probability": probabilities,
            "churn_band": ["high" if p > 0.5 else "low" for p in probabilities],
            "p_alive": [1 - p / 2 for p in probabilities],
            "expected_orders_90d": [0.5 * (i + 1) for i in range(count)],
            "expected_orders_365d": [2.0 * (i + 1) for i in range(count)],
            "expected_revenue_365d": [40.0 * (i + 1) for i in range(count)],
            "clv_365d": [35.0 * (i + 1) for i in range(count)],
            "action_segment": ["high value at risk"] * count,
            "top_drivers": [json.dumps([{"feature": "recency", "effect": 0.1}])] * count,
            "new_customer": [False] * count,
            "churn_model_version": version,
            "clv_model_version": version,
            "scored_at": pd.Timestamp(datetime(2026, 12, 1, 6, 30, tzinfo=UTC)),
        }
    )
    assert tuple(frame.columns) == SCORE_COLUMNS
    return frame


def test_both_reloads_rebuild_the_scores_from_every_day_in_the_lake(tmp_path: Path) -> None:
    lake = Lake.in_folder(str(tmp_path / "lake"))
    scores = lake.curated_table("customer_scores")
    write_partition(_scores([4, 7, 10], [0.8, 0.25, 0.5], "3"), scores, "as_of", "2026-11-30")
    write_partition(_scores([4, 12], [0.75, 0.125], "4"), scores, "as_of", "2026-12-01")
    warehouse = tmp_path / "warehouse.duckdb"

    loaded = load_local_warehouse(warehouse, lake)
    assert loaded["customer_scores"] == 5
    assert loaded["mart_sales_daily"] == 0  # no marts in this lake: empty tables
    assert load_scores_into_warehouse(warehouse, lake) == 5

    with duckdb.connect(str(warehouse)) as connection:
        rows = connection.execute(
            "SELECT as_of, user_id, churn_probability, churn_model_version "
            "FROM customer_scores ORDER BY as_of, user_id"
        ).fetchall()
        types = dict(
            connection.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_name = 'customer_scores'"
            ).fetchall()
        )
    assert [(str(day), user, p, v) for day, user, p, v in rows] == [
        ("2026-11-30", 4, 0.8, "3"),
        ("2026-11-30", 7, 0.25, "3"),
        ("2026-11-30", 10, 0.5, "3"),
        ("2026-12-01", 4, 0.75, "4"),
        ("2026-12-01", 12, 0.125, "4"),
    ]
    assert types["as_of"] == "DATE"
    assert types["user_id"] == "BIGINT"
    assert types["new_customer"] == "BOOLEAN"
