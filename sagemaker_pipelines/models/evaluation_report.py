"""evaluation.json: a trained bundle's metrics on the test cutoff, beside their baselines.

The keys are those the pipelines' condition reads (churn.auc.value, churn.brier.value,
clv.abs_revenue_error.value); each metric is also given for its baselines so a reader can see
what the model adds.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from sagemaker_pipelines.models.bundle import ModelBundle
from sagemaker_pipelines.models.datasets import CUTOFF, LABEL
from sagemaker_pipelines.models.evaluation import (
    btyd_holdout_prediction,
    calibration_by_decile,
    churn_baselines,
    compare_churn,
    compare_clv,
    last_period_repeats,
)
from sagemaker_pipelines.models.transactions import rfm_summary

CHURN_BASELINES = {"BG/NBD expected purchases": "btyd_expected_purchases", "recency": "recency"}
CLV_MODEL = "BG/NBD + Gamma-Gamma"
CLV_BASELINE = "last period repeats"


def evaluation_report(bundle: ModelBundle, test: pd.DataFrame, log: pd.DataFrame) -> dict[str, Any]:
    """The metrics of `bundle` on the test examples (one cutoff) and the clean placed log."""
    cutoffs = test[CUTOFF].unique()
    if len(cutoffs) != 1:
        raise ValueError(f"the test examples hold {len(cutoffs)} cutoffs; expected one")
    cutoff = pd.Timestamp(cutoffs[0])
    probability = bundle.churn.predict_proba(test)
    churned = test[LABEL].to_numpy(bool)
    churn = compare_churn(churned, probability, churn_baselines(test), bundle.base_rate)
    model = churn.loc["model"]

    summary = rfm_summary(log, cutoff, cutoff + pd.Timedelta(days=bundle.horizon_days))
    actual = summary.customers
    clv = compare_clv(
        actual["holdout_frequency"],
        actual["holdout_revenue"],
        {
            CLV_MODEL: btyd_holdout_prediction(summary, bundle.bgnbd, bundle.gamma_gamma),
            CLV_BASELINE: last_period_repeats(summary),
        },
    )
    calibration = calibration_by_decile(churned, probability)
    return {
        "cutoff": cutoff.date().isoformat(),
        "customers": len(test),
        "churn": {
            "auc": {"value": float(model["auc"])},
            "brier": {"value": float(model["brier"])},
            "lift_top_decile": {"value": float(model["lift_top_decile"])},
        },
        "churn_baselines": {
            key: {
                "auc": float(churn.loc[name, "auc"]),
                "lift_top_decile": float(churn.loc[name, "lift_top_decile"]),
            }
            for name, key in CHURN_BASELINES.items()
        }
        | {"base_rate": {"brier": float(churn.loc["base rate", "brier"])}},
        "churn_calibration": [
            {"decile": int(decile), **{name: float(value) for name, value in row.items()}}
            for decile, row in calibration.iterrows()
        ],
        "clv": {
            "abs_revenue_error": {"value": abs(float(clv.loc[CLV_MODEL, "revenue_error"]))},
            "spearman": {"value": float(clv.loc[CLV_MODEL, "revenue_spearman"])},
            "abs_purchases_error": {"value": abs(float(clv.loc[CLV_MODEL, "purchases_error"]))},
        },
        "clv_baseline": {
            "abs_revenue_error": abs(float(clv.loc[CLV_BASELINE, "revenue_error"])),
            "spearman": float(clv.loc[CLV_BASELINE, "revenue_spearman"]),
        },
    }
