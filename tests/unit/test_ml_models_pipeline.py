"""The modelling pieces the pipeline steps are thin over: raw orders to the placed log, the
model bundle, scoring and the registration condition, on hand-made fixtures."""

from __future__ import annotations

import tarfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cdnow_like_shops import cdnow_like_shop
from threadpoolctl import threadpool_limits

from contracts.lake import CUSTOMER_SCORES_PARTITION
from contracts.warehouse.tables import customer_scores_table
from sagemaker_pipelines.models.bundle import (
    ARCHIVE_FILE,
    ModelBundle,
    archive_bundle,
    load_bundle,
    save_bundle,
    train_bundle,
)
from sagemaker_pipelines.models.datasets import LABEL, split_examples
from sagemaker_pipelines.models.orders import latest_orders, placed_transactions
from sagemaker_pipelines.models.scoring import SCORE_COLUMNS, _drivers_json, score_customers
from sagemaker_pipelines.models.transactions import MissingColumnsError

TRAINED_AT = datetime(2025, 7, 1, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    """Gradient boosting's OpenMP threads crawl on a machine whose cores are all busy."""
    with threadpool_limits(1):
        yield


def _order(
    order_id: int, user: int, status: str, total: str, placed: str, updated: str
) -> dict[str, object]:
    return {
        "id": order_id,
        "user_id": user,
        "status": status,
        "total": total,
        "placed_at": pd.Timestamp(placed, tz="UTC"),
        "updated_at": pd.Timestamp(updated, tz="UTC"),
    }


def test_placed_log_keeps_the_latest_version_of_each_placed_order() -> None:
    raw = pd.DataFrame(
        [
            _order(1, 10, "placed", "20.00", "2025-01-02 10:00", "2025-01-02 10:00"),
            _order(1, 10, "delivered", "20.00", "2025-01-02 10:00", "2025-01-05 08:00"),
            _order(2, 10, "placed", "35.50", "2025-01-03 23:30", "2025-01-03 23:30"),
            _order(2, 10, "cancelled", "35.50", "2025-01-03 23:30", "2025-01-04 09:00"),
            _order(3, 11, "cancelled", "12.00", "2025-01-04 09:00", "2025-01-04 09:00"),
            _order(3, 11, "refunded", "12.00", "2025-01-04 09:00", "2025-01-09 09:00"),
            _order(4, 11, "shipped", "12.00", "2025-01-04 18:00", "2025-01-04 18:00"),
        ]
    )
    log, report = placed_transactions(raw.sample(frac=1, random_state=3))
    assert log.to_dict("records") == [
        {"customer_id": 10, "date": pd.Timestamp("2025-01-02"), "amount": 20.0},
        {"customer_id": 11, "date": pd.Timestamp("2025-01-04"), "amount": 12.0},
        {"customer_id": 11, "date": pd.Timestamp("2025-01-04"), "amount": 12.0},
    ]
    assert report.rows_read == 3
    assert report.duplicate_rows == 1
    assert list(latest_orders(raw)["status"]) == ["delivered", "cancelled", "refunded", "shipped"]


def test_placed_log_names_missing_columns() -> None:
    with pytest.raises(MissingColumnsError, match=r"\['updated_at'\]"):
        placed_transactions(pd.DataFrame(columns=["id", "user_id", "status", "total", "placed_at"]))


@pytest.fixture(scope="module")
def shop_log() -> pd.DataFrame:
    return cdnow_like_shop(1_200, 365, "2025-07-01", seed=5).log


@pytest.fixture(scope="module")
def bundle(shop_log: pd.DataFrame) -> ModelBundle:
    examples = split_examples(shop_log, horizon_days=90)
    return train_bundle(examples.train, shop_log, examples.cutoff, 90, TRAINED_AT)


def test_the_bundle_is_fitted_at_the_evaluation_cutoff(
    shop_log: pd.DataFrame, bundle: ModelBundle
) -> None:
    assert bundle.cutoff == pd.Timestamp("2025-04-01")
    examples = split_examples(shop_log, horizon_days=90)
    assert bundle.base_rate == pytest.approx(examples.train[LABEL].mean())
    assert bundle.describe()["cutoff"] == "2025-04-01"


def test_the_bundle_round_trips_through_the_folder_and_the_archive(
    bundle: ModelBundle, tmp_path: Path
) -> None:
    save_bundle(bundle, tmp_path / "model")
    archive_bundle(tmp_path / "model", tmp_path / "packed" / ARCHIVE_FILE)
    with tarfile.open(tmp_path / "packed" / ARCHIVE_FILE) as tar:
        assert sorted(tar.getnames()) == ["model.joblib", "model.json"]
    for folder in (tmp_path / "model", tmp_path / "packed"):
        loaded = load_bundle(folder)
        assert loaded.bgnbd == bundle.bgnbd
        assert loaded.describe() == bundle.describe()
    with pytest.raises(FileNotFoundError, match=r"neither model\.joblib nor model\.tar\.gz"):
        load_bundle(tmp_path)


def test_scores_cover_new_customers_without_nan(
    shop_log: pd.DataFrame, bundle: ModelBundle
) -> None:
    known = np.sort(shop_log["customer_id"].unique())
    segments = pd.Series(["champions", "lost"], index=pd.Index([int(known[0]), 99_999]))
    scores = score_customers(
        bundle,
        shop_log,
        "2025-06-30",
        churn_model_version="3",
        clv_model_version="4",
        scored_at=TRAINED_AT,
        rfm_segments=segments,
    )
    assert tuple(scores.columns) == SCORE_COLUMNS
    assert len(scores) == len(known) + 1
    assert not scores.isna().any().any()
    new = scores.set_index("user_id").loc[99_999]
    assert new["new_customer"]
    assert new["p_alive"] == 1.0
    assert new["action_segment"] == "first order pending"
    assert scores["new_customer"].sum() == 1
    assert set(scores["churn_band"]) <= {"low", "medium", "high"}
    assert (scores[["churn_model_version", "clv_model_version"]] == ["3", "4"]).all().all()


def test_drivers_become_json_lists_with_effects_rounded_to_four_decimals() -> None:
    drivers = pd.DataFrame(
        {
            "driver_1": ["recency", "tickets", "T"],
            "effect_1": [0.123456, -0.31, 0.0],
            "driver_2": ["T", "frequency", "p_alive"],
            "effect_2": [-0.0200004, 0.07249, -0.0],
        },
        index=pd.Index([7, 3, 12]),
    )
    assert _drivers_json(drivers) == [
        '[{"feature": "recency", "effect": 0.1235}, {"feature": "T", "effect": -0.02}]',
        '[{"feature": "tickets", "effect": -0.31}, {"feature": "frequency", "effect": 0.0725}]',
        '[{"feature": "T", "effect": 0.0}, {"feature": "p_alive", "effect": -0.0}]',
    ]


def test_the_scores_ddl_lists_the_score_columns_then_the_partition() -> None:
    assert customer_scores_table().column_names == [*SCORE_COLUMNS, CUSTOMER_SCORES_PARTITION]
