"""The demo's recommendations stage: reasons worded as the API words them, and the holdout table
from the job's reco_holdout_metrics."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
from rich.console import Console

from contracts.lake import RECO_HOLDOUT_METRICS, Lake
from local_platform.demo.recommendations import holdout_table, reason_text


def test_reasons_name_the_product_or_category_behind_them() -> None:
    assert reason_text("bought_together", "Voltra Pro Case", None) == (
        "bought together with Voltra Pro Case"
    )
    assert reason_text("viewed_together", "Tumble Mini Puzzle", None) == (
        "viewed together with Tumble Mini Puzzle"
    )
    assert reason_text("bought_again", "Roastery Nine Coffee Beans", None) == (
        "you bought it before"
    )
    assert reason_text("popular_in_category", None, "Snacks") == "popular in Snacks"
    assert reason_text("popular", None, None) == "popular"


def test_holdout_table_shows_models_best_first_per_target(tmp_path: Path) -> None:
    lake = Lake.in_folder(str(tmp_path))
    assert holdout_table(lake) is None  # no run yet

    folder = Path(lake.mart(RECO_HOLDOUT_METRICS))
    folder.mkdir(parents=True)
    cutoff = datetime(2026, 9, 24)
    rows = [
        ("next_views", "popularity", 40, 0.5, 0.2, 0.25),
        ("next_views", "recommendations", 40, 0.75, 0.3, 0.375),
        ("next_purchases", "random", 9, 0.0, 0.0, 0.0),
    ]
    with duckdb.connect() as connection:
        connection.execute(
            "CREATE TABLE m (cutoff TIMESTAMP, horizon_days INT, target TEXT, model TEXT,"
            " users INT, hit_rate DOUBLE, recall DOUBLE, ndcg DOUBLE)"
        )
        connection.executemany(
            "INSERT INTO m VALUES (?, 7, ?, ?, ?, ?, ?, ?)", [(cutoff, *row) for row in rows]
        )
        connection.execute(f"COPY m TO '{folder / 'part-0.parquet'}' (FORMAT parquet)")

    console = Console(width=120, record=True)
    console.print(holdout_table(lake))
    text = console.export_text()

    assert "the 7 days from 2026-09-24" in text
    lines = [line for line in text.splitlines() if "│" in line and "model" not in line]
    assert [line.split("│")[2].strip() for line in lines] == [
        "random",
        "recommendations",
        "popularity",
    ]
    assert "0.750" in lines[1]
    assert "0.375" in lines[1]
