"""The churn classifier's mechanics: training checks, determinism, drivers and bands.

The metrics it reaches on CDNOW and on simulated shops are in test_churn_evidence.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
from cdnow_like_shops import cdnow_like_shop
from drivers_reference import per_feature_drivers
from threadpoolctl import threadpool_limits

from sagemaker_pipelines.models.btyd import InsufficientDataError
from sagemaker_pipelines.models.churn import (
    ChurnModel,
    global_drivers,
    risk_bands,
    train_churn,
)
from sagemaker_pipelines.models.features import FEATURES, labelled_examples

CUTOFFS = [pd.Timestamp("2024-10-31"), pd.Timestamp("2024-08-31")]


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    """Gradient boosting's OpenMP threads crawl on a machine whose cores are all busy."""
    with threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def examples() -> tuple[pd.DataFrame, pd.Series]:
    log = cdnow_like_shop(3_000, 120, "2025-03-01", seed=21).log
    return labelled_examples(log, CUTOFFS)


@pytest.fixture(scope="module")
def model(examples: tuple[pd.DataFrame, pd.Series]) -> ChurnModel:
    with threadpool_limits(1):
        return train_churn(*examples)


def test_training_is_deterministic_and_gives_probabilities(
    examples: tuple[pd.DataFrame, pd.Series], model: ChurnModel
) -> None:
    features, labels = examples
    probability = model.predict_proba(features)
    assert ((probability >= 0) & (probability <= 1)).all()
    np.testing.assert_array_equal(
        probability, train_churn(features, labels).predict_proba(features)
    )
    assert model.feature_names == FEATURES
    # Columns are taken by name: order and extra columns do not matter.
    shuffled = features[list(reversed(features.columns))].assign(unused=1.0)
    np.testing.assert_array_equal(model.predict_proba(shuffled), probability)


def test_training_refuses_too_few_of_a_class_or_misaligned_labels(
    examples: tuple[pd.DataFrame, pd.Series],
) -> None:
    features, labels = examples
    few = pd.Series(False, index=labels.index)
    few.iloc[:19] = True
    with pytest.raises(InsufficientDataError, match="19 churned"):
        train_churn(features, few)
    with pytest.raises(InsufficientDataError, match="needs at least 20 of each"):
        train_churn(features, pd.Series(True, index=labels.index))
    with pytest.raises(ValueError, match="same index"):
        train_churn(features, labels.iloc[::-1])


def test_prediction_names_the_missing_features(model: ChurnModel) -> None:
    features = pd.DataFrame({"frequency": [1.0]})
    with pytest.raises(ValueError, match="'recency', 'T'"):
        model.predict_proba(features)


def test_top_drivers_are_the_largest_changes_when_a_feature_is_set_to_its_median(
    examples: tuple[pd.DataFrame, pd.Series], model: ChurnModel
) -> None:
    features = examples[0].iloc[:40]
    drivers = model.top_drivers(features)
    assert list(drivers.columns) == [
        "driver_1", "effect_1", "driver_2", "effect_2", "driver_3", "effect_3",
    ]  # fmt: skip
    base = model.predict_proba(features)
    effects = pd.DataFrame(
        {
            name: base - model.predict_proba(features.assign(**{name: model.medians[name]}))
            for name in FEATURES
        },
        index=features.index,
    )
    for customer, row in drivers.iterrows():
        expected = effects.loc[customer].abs().sort_values(ascending=False, kind="stable")
        assert [row["driver_1"], row["driver_2"], row["driver_3"]] == list(expected.index[:3])
        assert row["effect_1"] == pytest.approx(effects.loc[customer, row["driver_1"]])
        assert row["effect_3"] == pytest.approx(effects.loc[customer, row["driver_3"]])
    assert (drivers["effect_1"].abs() >= drivers["effect_2"].abs()).all()
    assert (drivers["effect_1"] != 0).any()


def test_a_customer_at_the_medians_has_no_effects_and_drivers_in_feature_order(
    model: ChurnModel,
) -> None:
    median = model.medians.to_frame().T
    drivers = model.top_drivers(median, k=2)
    assert drivers.iloc[0].tolist() == [FEATURES[0], 0.0, FEATURES[1], 0.0]
    with pytest.raises(ValueError, match="k must be between 1 and 9"):
        model.top_drivers(median, k=10)


def test_global_drivers_rank_permutation_importance(
    examples: tuple[pd.DataFrame, pd.Series], model: ChurnModel
) -> None:
    features, labels = examples
    table = global_drivers(model, features, labels, n_repeats=2)
    assert sorted(table.index) == sorted(FEATURES)
    assert table["importance"].is_monotonic_decreasing
    assert table.loc["new_customer", "importance"] == 0.0  # constant: shuffling changes nothing
    assert table["importance"].iloc[0] > 0.01


def test_risk_bands_use_the_thresholds_given() -> None:
    probability = [0.1, 0.5, 0.79, 0.8, 0.95]
    assert list(risk_bands(probability)) == ["low", "medium", "medium", "high", "high"]
    assert list(risk_bands(probability, 0.3, 0.9)) == ["low", "medium", "medium", "medium", "high"]


def test_top_drivers_equal_the_per_feature_algorithm_exactly(
    examples: tuple[pd.DataFrame, pd.Series], model: ChurnModel
) -> None:
    sample = examples[0].iloc[::7].iloc[:350]
    # Repeated customers (one code row for several), one at every median, one with two
    # features at theirs, one value between two thresholds of the median's interval, a NaN.
    median = model.medians.to_frame().T
    two_at_median = sample.iloc[[3]].assign(recency=model.medians["recency"], T=model.medians["T"])
    near_median = median.assign(frequency=model.medians["frequency"] + 1e-9)
    missing = sample.iloc[[5]].assign(recency=np.nan)
    features = pd.concat(
        [sample, sample.iloc[:20], median, two_at_median, near_median, missing], ignore_index=True
    )
    for k, block in ((3, 64), (5, 10_000)):
        expected = per_feature_drivers(model, features, k)
        probability, actual = model.explain(features, k, block=block)
        pd.testing.assert_frame_equal(actual, expected, check_exact=True)
        assert np.array_equal(probability, model.predict_proba(features), equal_nan=True)
    # The fixture exercises both a zero and a non-zero effect per feature, and distinct ranks.
    assert expected["effect_1"].ne(0).sum() > 300
    assert (expected.iloc[len(sample) + 20][["effect_1", "effect_2"]] == 0).all()
    assert expected["driver_1"].nunique() >= 3
