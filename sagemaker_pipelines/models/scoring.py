"""Scoring a customer base with a model bundle into the customer_scores columns.

Every customer gets numbers, never NaN: one without an order by the scoring day is scored as
a customer acquired that day and flagged new_customer. The action segment needs the RFM
segment of the mart_rfm_segments mart; a buying customer that mart does not list (or all of
them, when it is not given) gets UNKNOWN_RFM_SEGMENT, which only the value and risk rules
match.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime

import numpy as np
import pandas as pd

from sagemaker_pipelines.models.btyd import discounted_clv
from sagemaker_pipelines.models.bundle import ModelBundle
from sagemaker_pipelines.models.churn import risk_bands
from sagemaker_pipelines.models.features import EXTRA_PREFIX, build_features
from sagemaker_pipelines.models.segments import action_segments, clv_bands
from sagemaker_pipelines.models.service import SERVICE_FEATURES
from sagemaker_pipelines.models.transactions import DATE, rfm_summary

SCORE_COLUMNS = (
    "user_id",
    "churn_probability",
    "churn_band",
    "p_alive",
    "expected_orders_90d",
    "expected_orders_365d",
    "expected_revenue_365d",
    "clv_365d",
    "action_segment",
    "top_drivers",
    "new_customer",
    "churn_model_version",
    "clv_model_version",
    "scored_at",
)
UNKNOWN_RFM_SEGMENT = "unknown"


def uses_extra(bundle: ModelBundle) -> bool:
    """Whether the churn model was trained with the customer_features mart's columns."""
    return any(name.startswith(EXTRA_PREFIX) for name in bundle.feature_names)


def uses_service(bundle: ModelBundle) -> bool:
    """Whether the churn model was trained with the service history's counts."""
    return any(name in SERVICE_FEATURES for name in bundle.feature_names)


def scoring_day(log: pd.DataFrame, as_of: str | pd.Timestamp) -> pd.Timestamp:
    """The day the features are computed at: as_of, or the log's last day when the orders
    extract ends before it (the models summarize up to a day the log covers)."""
    return min(pd.Timestamp(as_of).normalize(), log[DATE].max())


def score_customers(
    bundle: ModelBundle,
    log: pd.DataFrame,
    as_of: str | pd.Timestamp,
    *,
    churn_model_version: str,
    clv_model_version: str,
    scored_at: datetime,
    service: pd.DataFrame | None = None,
    extra: pd.DataFrame | None = None,
    rfm_segments: pd.Series | None = None,
    customers: Iterable[object] = (),
) -> pd.DataFrame:
    """One row per customer (SCORE_COLUMNS), sorted by user_id.

    Customers are those with an order by the scoring day plus those in `extra` (the
    customer_features mart at as_of, required when the model was trained with it), in
    `rfm_segments` (segment name per user_id) and in `customers` (for example every user).
    `service` (service.service_events) is required when the model was trained with it.
    """
    if uses_extra(bundle) and extra is None:
        raise ValueError("the model was trained with the customer_features mart; pass it")
    if uses_service(bundle) and service is None:
        raise ValueError("the model was trained with the service history; pass its events")
    day = scoring_day(log, as_of)
    built = build_features(
        log,
        day,
        horizon_days=bundle.horizon_days,
        unit_days=bundle.unit_days,
        service=service if uses_service(bundle) else None,
        extra=extra if uses_extra(bundle) else None,
        customers=[*customers, *([] if rfm_segments is None else rfm_segments.index)],
    )
    features = built.frame.sort_index()
    probability, drivers = bundle.churn.explain(features)

    summary = rfm_summary(log, day).customers.reindex(features.index, fill_value=0.0)
    rfm_columns = ("frequency", "recency", "T", "monetary_value")
    x, t_x, big_t, spend = (summary[name].to_numpy(np.float64) for name in rfm_columns)
    bgnbd, gamma_gamma = bundle.bgnbd, bundle.gamma_gamma
    days_90, days_365 = 90 / bundle.unit_days, 365 / bundle.unit_days
    orders_365 = bgnbd.conditional_expected_purchases(days_365, x, t_x, big_t)
    clv = discounted_clv(bgnbd, gamma_gamma, x, t_x, big_t, spend, unit_days=bundle.unit_days)
    new = features["new_customer"].to_numpy() > 0

    segments = pd.Series(UNKNOWN_RFM_SEGMENT, index=features.index, dtype=object)
    if rfm_segments is not None:
        known = rfm_segments.reindex(features.index).dropna()
        segments.loc[known.index] = known
    segments[new] = None
    churn_band = risk_bands(probability)

    scores = pd.DataFrame(
        {
            "user_id": features.index.to_numpy(),
            "churn_probability": probability,
            "churn_band": churn_band,
            "p_alive": bgnbd.p_alive(x, t_x, big_t),
            "expected_orders_90d": bgnbd.conditional_expected_purchases(days_90, x, t_x, big_t),
            "expected_orders_365d": orders_365,
            "expected_revenue_365d": orders_365 * gamma_gamma.expected_average_spend(x, spend),
            "clv_365d": clv,
            "action_segment": action_segments(segments.tolist(), churn_band, clv_bands(clv)),
            "top_drivers": _drivers_json(drivers),
            "new_customer": new,
            "churn_model_version": churn_model_version,
            "clv_model_version": clv_model_version,
            "scored_at": pd.Timestamp(scored_at),
        }
    )
    numbers = scores.select_dtypes("number")
    if not np.isfinite(numbers.to_numpy(np.float64)).all():
        raise ValueError("scoring produced non-finite values")
    return scores


def _drivers_json(drivers: pd.DataFrame) -> list[str]:
    """Each customer's drivers as JSON text: [{"feature": ..., "effect": ...}, ...], effects
    rounded to 4 decimals. Built from plain column lists: a pandas row per customer cost nearly
    as much as computing the drivers (docs/ml.md, "Speed of training and scoring")."""
    ranks = range(1, len(drivers.columns) // 2 + 1)
    names = [drivers[f"driver_{rank}"].tolist() for rank in ranks]
    effects = [
        [round(effect, 4) for effect in drivers[f"effect_{rank}"].astype(float).tolist()]
        for rank in ranks
    ]
    return [
        json.dumps(
            [
                {"feature": name, "effect": effect}
                for name, effect in zip(row_names, row_effects, strict=True)
            ]
        )
        for row_names, row_effects in zip(
            zip(*names, strict=True), zip(*effects, strict=True), strict=True
        )
    ]
