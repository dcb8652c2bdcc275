"""Model metrics, each beside a simple baseline computed on the same customers in the same run.

Churn: AUC, Brier score, calibration by decile and lift at the top decile; baselines are the
BG/NBD expected purchases as a score (fewer expected purchases, more likely to churn),
recency alone (days since the last order) and, for the probability metrics, the training
churn rate given to everyone. CLV: holdout purchases and revenue, total relative error, mean
absolute error and Spearman rank correlation of BG/NBD + Gamma-Gamma's expectations, beside
the "last period repeats" baseline: each customer keeps buying at their past rate and mean
spend.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats

from sagemaker_pipelines.models.btyd import BgNbd, FloatArray, GammaGamma
from sagemaker_pipelines.models.transactions import RfmSummary

DECILES = 10


def _labels(y: ArrayLike) -> FloatArray:
    labels = np.asarray(y)
    if labels.dtype != bool and not np.isin(labels, (0, 1)).all():
        raise ValueError("labels must be booleans or 0/1")
    return labels.astype(np.float64)


def _pair(y: ArrayLike, score: ArrayLike) -> tuple[FloatArray, FloatArray]:
    labels, values = _labels(y), np.asarray(score, dtype=np.float64)
    if labels.shape != values.shape:
        raise ValueError(f"{labels.size} labels but {values.size} scores")
    if np.isnan(values).any():
        raise ValueError(f"{int(np.isnan(values).sum())} score(s) are NaN")
    return labels, values


def roc_auc(y: ArrayLike, score: ArrayLike) -> float:
    """P(a random positive scores above a random negative), ties counting one half.

    The Mann-Whitney form: the positives' mean rank (ties averaged) against the negatives'.
    """
    labels, values = _pair(y, score)
    positives = int(labels.sum())
    negatives = labels.size - positives
    if positives == 0 or negatives == 0:
        raise ValueError(
            f"AUC needs both classes; the labels hold {positives} positive(s) "
            f"and {negatives} negative(s)"
        )
    ranks = stats.rankdata(values)
    return float(
        (ranks[labels == 1].sum() - positives * (positives + 1) / 2) / (positives * negatives)
    )


def brier_score(y: ArrayLike, probability: ArrayLike) -> float:
    """Mean squared difference between the predicted probability and the 0/1 outcome."""
    labels, values = _pair(y, probability)
    if ((values < 0) | (values > 1)).any():
        raise ValueError("probabilities must lie in [0, 1]")
    return float(np.mean((values - labels) ** 2))


def deciles(score: ArrayLike) -> np.ndarray:
    """1..10 by rank, 10 holding the highest scores: 10 - floor(10 * (rank - 1) / n) with
    rank counted from the top and shared by ties, so tied customers share a decile."""
    values = np.asarray(score, dtype=np.float64)
    rank_from_top = stats.rankdata(-values, method="min")
    return DECILES - np.floor(DECILES * (rank_from_top - 1) / values.size).astype(int)


def calibration_by_decile(y: ArrayLike, probability: ArrayLike) -> pd.DataFrame:
    """Per decile of predicted probability (1 lowest): customers, mean predicted, observed
    rate. Deciles that ties leave empty are left out."""
    labels, values = _pair(y, probability)
    frame = pd.DataFrame({"decile": deciles(values), "predicted": values, "observed": labels})
    table = frame.groupby("decile").agg(
        customers=("observed", "size"),
        mean_predicted=("predicted", "mean"),
        observed_rate=("observed", "mean"),
    )
    return table.astype({"customers": "int64"})


def lift_at_top_decile(y: ArrayLike, score: ArrayLike) -> float:
    """The positive rate among the top-scored tenth (customers tied with its last one
    included) over the positive rate of everyone."""
    labels, values = _pair(y, score)
    overall = labels.mean()
    if overall == 0:
        raise ValueError("lift needs at least one positive label")
    return float(labels[deciles(values) == DECILES].mean() / overall)


def churn_baselines(features: pd.DataFrame) -> dict[str, FloatArray]:
    """The baseline scores (higher = more likely to churn) from the feature frame."""
    return {
        "BG/NBD expected purchases": -features["expected_purchases"].to_numpy(np.float64),
        "recency": features["days_since_last_order"].to_numpy(np.float64),
    }


def compare_churn(
    churned: ArrayLike,
    probability: ArrayLike,
    baselines: Mapping[str, ArrayLike],
    base_rate: float,
) -> pd.DataFrame:
    """One row per scorer: the model, each baseline score and the constant base rate.

    Columns auc, lift_top_decile and brier; brier is NaN for the baselines that are scores
    rather than probabilities. The constant's AUC is 0.5 and its lift 1 by construction.
    """
    labels = _labels(churned)
    scorers: dict[str, tuple[ArrayLike, bool]] = {"model": (probability, True)}
    scorers.update({name: (score, False) for name, score in baselines.items()})
    scorers["base rate"] = (np.full(labels.shape, base_rate), True)
    rows = {
        name: {
            "auc": roc_auc(labels, score),
            "lift_top_decile": lift_at_top_decile(labels, score),
            "brier": brier_score(labels, score) if is_probability else np.nan,
        }
        for name, (score, is_probability) in scorers.items()
    }
    return pd.DataFrame.from_dict(rows, orient="index")


def spearman(a: ArrayLike, b: ArrayLike) -> float:
    """Spearman rank correlation: Pearson's correlation of the ranks (ties averaged)."""
    x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError(f"{x.size} values against {y.size}")
    ranks_x, ranks_y = stats.rankdata(x), stats.rankdata(y)
    if ranks_x.std() == 0 or ranks_y.std() == 0:
        raise ValueError("rank correlation is undefined when one side is constant")
    return float(np.corrcoef(ranks_x, ranks_y)[0, 1])


def btyd_holdout_prediction(
    summary: RfmSummary, bgnbd: BgNbd, gamma_gamma: GammaGamma
) -> tuple[FloatArray, FloatArray]:
    """Expected holdout purchases E[Y(t) | x, t_x, T] and revenue (times the expected spend)."""
    length = _holdout_length(summary)
    customers = summary.customers
    purchases = bgnbd.conditional_expected_purchases(
        length, customers["frequency"], customers["recency"], customers["T"]
    )
    spend = gamma_gamma.expected_average_spend(customers["frequency"], customers["monetary_value"])
    return purchases, purchases * spend


def last_period_repeats(summary: RfmSummary) -> tuple[FloatArray, FloatArray]:
    """The baseline: repeat purchases at the customer's past rate x / T over the holdout
    (none when T is 0), each worth their mean repeat spend."""
    length = _holdout_length(summary)
    customers = summary.customers
    x, big_t = customers["frequency"].to_numpy(np.float64), customers["T"].to_numpy(np.float64)
    purchases = np.divide(x * length, big_t, out=np.zeros_like(x), where=big_t > 0)
    return purchases, purchases * customers["monetary_value"].to_numpy(np.float64)


def _holdout_length(summary: RfmSummary) -> float:
    if summary.holdout_length is None:
        raise ValueError("the RFM summary has no holdout")
    return summary.holdout_length


def compare_clv(
    actual_purchases: ArrayLike,
    actual_revenue: ArrayLike,
    predictions: Mapping[str, tuple[ArrayLike, ArrayLike]],
) -> pd.DataFrame:
    """One row per predictor of (purchases, revenue) in the holdout.

    purchases_error and revenue_error are the totals' relative errors (predicted / actual
    - 1); purchases_mae and revenue_mae the per-customer mean absolute errors;
    revenue_spearman the rank correlation of predicted and actual revenue.
    """
    purchases = np.asarray(actual_purchases, dtype=np.float64)
    revenue = np.asarray(actual_revenue, dtype=np.float64)
    if purchases.sum() <= 0 or revenue.sum() <= 0:
        raise ValueError("the holdout has no purchases or no revenue to compare against")
    rows = {}
    for name, (predicted_purchases, predicted_revenue) in predictions.items():
        p = np.asarray(predicted_purchases, dtype=np.float64)
        r = np.asarray(predicted_revenue, dtype=np.float64)
        if p.shape != purchases.shape or r.shape != revenue.shape:
            raise ValueError(f"{name}: predictions do not align with the actual values")
        rows[name] = {
            "purchases_error": p.sum() / purchases.sum() - 1,
            "revenue_error": r.sum() / revenue.sum() - 1,
            "purchases_mae": float(np.abs(p - purchases).mean()),
            "revenue_mae": float(np.abs(r - revenue).mean()),
            "revenue_spearman": spearman(r, revenue),
        }
    return pd.DataFrame.from_dict(rows, orient="index")
