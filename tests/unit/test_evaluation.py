"""Metrics computed by hand on tiny fixtures; AUC and Spearman also against sklearn and scipy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr
from sklearn.metrics import roc_auc_score

from sagemaker_pipelines.models.evaluation import (
    brier_score,
    calibration_by_decile,
    churn_baselines,
    compare_churn,
    compare_clv,
    deciles,
    last_period_repeats,
    lift_at_top_decile,
    roc_auc,
    spearman,
)
from sagemaker_pipelines.models.transactions import RfmSummary


@pytest.mark.parametrize(
    ("score", "expected"),
    [
        # Positives 0.9, 0.3, 0.5 against negatives 0.3, 0.1: 5 wins and one tie of 6 pairs.
        ([0.9, 0.3, 0.3, 0.1, 0.5], 5.5 / 6),
        ([0.9, 0.3, 0.35, 0.1, 0.5], 1.0),
        ([0.1, 0.9, 0.2, 0.8, 0.3], 0.0),
        ([0.5, 0.5, 0.5, 0.5, 0.5], 0.5),
    ],
)
def test_auc_counts_pairs_with_ties_as_halves(score: list[float], expected: float) -> None:
    labels = [1, 0, 1, 0, 1]
    assert roc_auc(labels, score) == pytest.approx(expected)
    assert roc_auc(labels, score) == pytest.approx(roc_auc_score(labels, score))


def test_auc_agrees_with_sklearn_on_random_scores_with_ties() -> None:
    rng = np.random.default_rng(3)
    labels = rng.random(500) < 0.3
    score = rng.integers(0, 20, 500)
    assert roc_auc(labels, score) == pytest.approx(roc_auc_score(labels, score), rel=1e-12)


@pytest.mark.parametrize("labels", [[1, 1, 1], [0, 0, 0]])
def test_auc_refuses_a_single_class(labels: list[int]) -> None:
    with pytest.raises(ValueError, match="both classes"):
        roc_auc(labels, [0.1, 0.2, 0.3])


def test_metrics_refuse_misaligned_or_bad_input() -> None:
    with pytest.raises(ValueError, match="3 labels but 2 scores"):
        roc_auc([1, 0, 1], [0.1, 0.2])
    with pytest.raises(ValueError, match="NaN"):
        roc_auc([1, 0], [0.1, np.nan])
    with pytest.raises(ValueError, match="0/1"):
        roc_auc([2, 0], [0.1, 0.2])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        brier_score([1, 0], [1.2, 0.0])


@pytest.mark.parametrize(
    ("probability", "expected"),
    [([0.8, 0.2, 0.5, 0.0], (0.04 + 0.04 + 0.25 + 0) / 4), ([1.0, 0.0, 1.0, 0.0], 0.0)],
)
def test_brier_score_is_the_mean_squared_error(probability: list[float], expected: float) -> None:
    assert brier_score([1, 0, 1, 0], probability) == pytest.approx(expected)


def test_deciles_put_the_highest_scores_in_decile_ten_and_ties_together() -> None:
    assert list(deciles(np.arange(10.0))) == list(range(1, 11))
    assert list(deciles(np.arange(20.0))) == [d for d in range(1, 11) for _ in range(2)]
    # Ranks from the top (shared by ties) 1, 1, 3, 4 of 4: 10 - floor(10 * (rank - 1) / 4).
    assert list(deciles([3.0, 3.0, 1.0, 0.0])) == [10, 10, 5, 3]


def test_calibration_by_decile_compares_mean_prediction_and_observed_rate() -> None:
    probability = np.arange(1, 21) / 20  # two customers per decile
    labels = np.zeros(20, dtype=int)
    labels[[18, 19, 17, 0]] = 1
    table = calibration_by_decile(labels, probability)
    assert list(table.index) == list(range(1, 11))
    assert (table["customers"] == 2).all()
    assert table.loc[10, "mean_predicted"] == pytest.approx((0.95 + 1.0) / 2)
    assert table.loc[10, "observed_rate"] == 1.0
    assert table.loc[9, "observed_rate"] == 0.5
    assert table.loc[1, "mean_predicted"] == pytest.approx((0.05 + 0.1) / 2)
    assert table.loc[1, "observed_rate"] == 0.5
    assert table.loc[5, "observed_rate"] == 0.0


def test_calibration_leaves_out_deciles_that_ties_empty() -> None:
    table = calibration_by_decile([1, 0, 1, 0], [0.9, 0.9, 0.2, 0.1])
    assert list(table.index) == [3, 5, 10]
    assert table.loc[10, "customers"] == 2
    assert table.loc[10, "observed_rate"] == 0.5


def test_lift_at_top_decile() -> None:
    score = np.arange(20.0)
    labels = np.zeros(20, dtype=int)
    labels[[19, 18, 3, 4]] = 1  # top two both positive; 4 of 20 overall
    assert lift_at_top_decile(labels, score) == pytest.approx(1.0 / 0.2)
    # Two customers tie for the top score of ten: both are in the top decile.
    tied = [9, 9, 8, 7, 6, 5, 4, 3, 2, 1]
    assert lift_at_top_decile([1, 0, 1, 1, 0, 0, 0, 0, 0, 0], tied) == pytest.approx(0.5 / 0.3)
    with pytest.raises(ValueError, match="at least one positive"):
        lift_at_top_decile([0, 0], [0.1, 0.2])


def test_compare_churn_puts_the_model_beside_its_baselines() -> None:
    churned = np.array([1, 0, 1, 0, 1])
    probability = np.array([0.9, 0.3, 0.35, 0.1, 0.5])
    features = pd.DataFrame(
        {"expected_purchases": [0.1, 2.0, 0.5, 3.0, 0.2], "days_since_last_order": [9, 1, 1, 0, 5]}
    )
    table = compare_churn(churned, probability, churn_baselines(features), base_rate=0.6)
    assert list(table.index) == ["model", "BG/NBD expected purchases", "recency", "base rate"]
    assert table.loc["model", "auc"] == pytest.approx(1.0)
    assert table.loc["model", "brier"] == pytest.approx((0.01 + 0.09 + 0.65**2 + 0.01 + 0.25) / 5)
    assert table.loc["BG/NBD expected purchases", "auc"] == pytest.approx(1.0)
    # Recency: positives 9, 1, 5 against negatives 1, 0: 5 wins and one tie.
    assert table.loc["recency", "auc"] == pytest.approx(5.5 / 6)
    assert np.isnan(table.loc["recency", "brier"])
    assert table.loc["base rate", "auc"] == 0.5
    assert table.loc["base rate", "lift_top_decile"] == 1.0
    assert table.loc["base rate", "brier"] == pytest.approx((3 * 0.16 + 2 * 0.36) / 5)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ([1, 2, 3, 4], [1, 3, 2, 4], 0.8),  # 1 - 6 * 2 / (4 * 15)
        ([1, 2, 2, 3], [1, 2, 3, 4], 4.5 / np.sqrt(4.5 * 5)),  # tied ranks 2.5, 2.5
        ([4, 3, 2, 1], [1, 2, 3, 4], -1.0),
    ],
)
def test_spearman_correlates_ranks(a: list[int], b: list[int], expected: float) -> None:
    assert spearman(a, b) == pytest.approx(expected)
    assert spearman(a, b) == pytest.approx(spearmanr(a, b).statistic)


def test_spearman_refuses_a_constant_side() -> None:
    with pytest.raises(ValueError, match="constant"):
        spearman([1, 1, 1], [1, 2, 3])


def _summary(holdout_end: str | None = "2024-01-21") -> RfmSummary:
    customers = pd.DataFrame(
        {"frequency": [2, 0, 0], "recency": [8.0, 0.0, 0.0], "T": [10.0, 5.0, 0.0]}
        | {"monetary_value": [7.0, 0.0, 0.0]}
    )
    end = None if holdout_end is None else pd.Timestamp(holdout_end)
    return RfmSummary(customers, pd.Timestamp("2024-01-01"), end, 1.0, 0)


def test_last_period_repeats_continues_each_customers_past_rate() -> None:
    purchases, revenue = last_period_repeats(_summary())
    # 2 repeats in 10 days, over a 20-day holdout: 4 purchases of 7 each.
    assert list(purchases) == [4.0, 0.0, 0.0]
    assert list(revenue) == [28.0, 0.0, 0.0]
    with pytest.raises(ValueError, match="no holdout"):
        last_period_repeats(_summary(None))


def test_compare_clv_reports_total_errors_mean_absolute_errors_and_rank_correlation() -> None:
    table = compare_clv(
        [1, 0, 2],
        [10.0, 0.0, 30.0],
        {
            "close": ([1.5, 0.5, 1.0], [15.0, 5.0, 20.0]),
            "coarse": ([2.0, 0.0, 2.0], [20.0, 0.0, 20.0]),
        },
    )
    assert table.loc["close"].to_dict() == pytest.approx(
        {
            "purchases_error": 0.0,
            "revenue_error": 0.0,
            "purchases_mae": 2 / 3,
            "revenue_mae": 20 / 3,
            "revenue_spearman": 1.0,
        }
    )
    assert table.loc["coarse"].to_dict() == pytest.approx(
        {
            "purchases_error": 1 / 3,
            "revenue_error": 0.0,
            "purchases_mae": 1 / 3,
            "revenue_mae": 20 / 3,
            "revenue_spearman": 1.5 / np.sqrt(3),
        }
    )
    with pytest.raises(ValueError, match="no purchases"):
        compare_clv([0, 0], [0.0, 0.0], {})
    with pytest.raises(ValueError, match="do not align"):
        compare_clv([1, 0], [1.0, 0.0], {"short": ([1.0], [1.0])})
