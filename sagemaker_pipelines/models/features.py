"""Per-customer features at a cutoff, and the churn label from the period after it.

Everything a feature is computed from is dated on or before the cutoff day (the RFM summary's
calibration end, inclusive), including the BG/NBD fit behind P(alive) and the expected
purchases; only `churn_labels` looks after the cutoff. Customers without an order by the
cutoff get defined values and `new_customer` = 1, never NaN, so a model scores them too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sagemaker_pipelines.models.btyd import MIN_REPEAT_CUSTOMERS, BgNbd, fit_bgnbd
from sagemaker_pipelines.models.service import service_counts
from sagemaker_pipelines.models.transactions import (
    AMOUNT,
    CUSTOMER,
    DATE,
    PeriodError,
    rfm_summary,
)

DEFAULT_HORIZON_DAYS = 90
"""Churned = no order in this many days after the cutoff (the issue's default)."""

TRAINING_CUTOFFS = 8
TRAINING_SPACING_DAYS = 30
"""Training stacks eight cutoffs 30 days apart: more examples, and customers seen at several
ages, so that the model does not meet tenures at evaluation that it never trained on. Four
cutoffs 60 days apart gave the same AUC on CDNOW and lower ones on the generated shops
(docs/ml.md, "Churn")."""

EXTRA_PREFIX = "cf_"
"""Extra per-customer columns (the customer_features mart) are joined under this prefix, so
the mart's order-based columns never collide with the ones computed here."""

FEATURES = (
    "frequency",
    "recency",
    "T",
    "order_count",
    "mean_order_value",
    "days_since_last_order",
    "p_alive",
    "expected_purchases",
    "new_customer",
)
"""The columns computed from the transaction log, in order; the service history's
(SERVICE_FEATURES, when given) and the extras follow them."""


@dataclass(frozen=True)
class CustomerFeatures:
    """Features at a cutoff: `frame` is indexed by customer id, all float64, no NaN.

    frequency, recency and T are the RFM summary's (in units of unit_days); order_count and
    mean_order_value count every order (not purchase days); expected_purchases is the BG/NBD
    expectation over the next horizon_days; bgnbd is the fit they come from.
    """

    frame: pd.DataFrame
    cutoff: pd.Timestamp
    horizon_days: int
    unit_days: float
    bgnbd: BgNbd


def build_features(
    log: pd.DataFrame,
    cutoff: str | pd.Timestamp,
    *,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
    unit_days: float = 1.0,
    service: pd.DataFrame | None = None,
    extra: pd.DataFrame | None = None,
    extra_key: str = "user_id",
    customers: Iterable[object] | None = None,
    min_repeat_customers: int = MIN_REPEAT_CUSTOMERS,
) -> CustomerFeatures:
    """Features of every customer known at `cutoff`, from a clean log (clean_transactions).

    Customers are those with an order on or before the cutoff, plus those in `extra` and in
    `customers` (for example every signed-up user); the ones without an order by the cutoff
    are new: frequency, recency, T, order counts and values and days since last order are 0,
    and P(alive) and expected purchases are the BG/NBD values of a customer acquired at the
    cutoff (1 and E[X(t)]).

    `service` is the service event log (service.service_events): its counts up to the cutoff
    day join as SERVICE_FEATURES, 0 for customers without events.

    `extra` holds more per-customer columns (the lake's customer_features mart at the same
    cutoff), one row per `extra_key`: its numeric columns (decimals included) are joined as
    cf_<name>, missing values and customers absent from it as 0; other columns (the mart's
    cutoff timestamps) are left out.
    """
    if horizon_days < 1:
        raise ValueError(f"horizon_days must be >= 1, got {horizon_days}")
    cutoff = pd.Timestamp(cutoff).normalize()
    summary = rfm_summary(log, cutoff, unit_days=unit_days).customers
    fit = fit_bgnbd(
        summary["frequency"],
        summary["recency"],
        summary["T"],
        min_repeat_customers=min_repeat_customers,
    )
    bgnbd = fit.params
    horizon = horizon_days / unit_days
    x, t_x, big_t = (summary[name].to_numpy(np.float64) for name in ("frequency", "recency", "T"))

    orders = log[log[DATE] <= cutoff].groupby(CUSTOMER)
    known = pd.DataFrame(
        {
            "frequency": x,
            "recency": t_x,
            "T": big_t,
            "order_count": orders.size().reindex(summary.index).to_numpy(np.float64),
            "mean_order_value": orders[AMOUNT].mean().reindex(summary.index).to_numpy(),
            "days_since_last_order": (cutoff - orders[DATE].max().reindex(summary.index)).dt.days,
            "p_alive": bgnbd.p_alive(x, t_x, big_t),
            "expected_purchases": bgnbd.conditional_expected_purchases(horizon, x, t_x, big_t),
            "new_customer": 0.0,
        },
        index=summary.index,
    )

    everyone = known.index
    extras = None if extra is None else _extra_columns(extra, extra_key)
    if extras is not None:
        everyone = everyone.union(extras.index, sort=False)
    if customers is not None:
        everyone = everyone.union(pd.Index(list(customers)), sort=False)
    new = pd.DataFrame(0.0, index=everyone.difference(known.index, sort=False), columns=FEATURES)
    new["p_alive"] = 1.0
    new["expected_purchases"] = float(bgnbd.expected_purchases(horizon))
    new["new_customer"] = 1.0
    frame = pd.concat([known, new]).astype(np.float64)
    if service is not None:
        frame = frame.join(service_counts(service, cutoff, frame.index))
    if extras is not None:
        frame = frame.join(extras).fillna(0.0)
    frame.index.name = CUSTOMER
    return CustomerFeatures(frame, cutoff, horizon_days, unit_days, bgnbd)


def _extra_columns(extra: pd.DataFrame, key: str) -> pd.DataFrame:
    """The numeric columns of `extra` as float64, indexed by `key`, prefixed."""
    if key not in extra.columns:
        raise ValueError(f"the extra frame has no key column {key!r}: {list(extra.columns)}")
    if extra[key].duplicated().any():
        raise ValueError(f"the extra frame has {int(extra[key].duplicated().sum())} repeated {key}")
    columns = {}
    for name in extra.columns.drop(key):
        values = extra[name]
        if pd.api.types.is_datetime64_any_dtype(values):
            continue
        try:
            columns[f"{EXTRA_PREFIX}{name}"] = pd.to_numeric(values).astype(np.float64)
        except (TypeError, ValueError):
            continue
    return pd.DataFrame(columns).set_axis(pd.Index(extra[key].to_numpy(), name=CUSTOMER))


def churn_labels(
    log: pd.DataFrame,
    customers: pd.Index,
    cutoff: str | pd.Timestamp,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
) -> pd.Series:
    """churned (bool) per customer: no order after the cutoff day, up to horizon_days later.

    The log must reach the end of that window; otherwise late customers would look churned.
    """
    cutoff = pd.Timestamp(cutoff).normalize()
    window_end = cutoff + pd.Timedelta(days=horizon_days)
    last_day = log[DATE].max()
    if last_day < window_end:
        raise PeriodError(
            f"the label window ends on {window_end.date()}, "
            f"after the log's last day {last_day.date()}"
        )
    in_window = log[(log[DATE] > cutoff) & (log[DATE] <= window_end)]
    ordered = customers.isin(in_window[CUSTOMER].unique())
    return pd.Series(~ordered, index=customers, name="churned")


def training_cutoffs(
    evaluation_cutoff: str | pd.Timestamp,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
    count: int = TRAINING_CUTOFFS,
    spacing_days: int = TRAINING_SPACING_DAYS,
) -> list[pd.Timestamp]:
    """Training cutoffs for a temporal split, latest first: the latest is horizon_days before
    the evaluation cutoff, so no training label looks past it, the others spacing_days apart."""
    if count < 1 or spacing_days < 1:
        raise ValueError(f"count and spacing_days must be >= 1, got {count} and {spacing_days}")
    latest = pd.Timestamp(evaluation_cutoff).normalize() - pd.Timedelta(days=horizon_days)
    return [latest - pd.Timedelta(days=i * spacing_days) for i in range(count)]


def labelled_examples(
    log: pd.DataFrame,
    cutoffs: Iterable[str | pd.Timestamp],
    *,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
    unit_days: float = 1.0,
    service: pd.DataFrame | None = None,
    extras: Mapping[pd.Timestamp, pd.DataFrame] | None = None,
    extra_key: str = "user_id",
    min_repeat_customers: int = MIN_REPEAT_CUSTOMERS,
) -> tuple[pd.DataFrame, pd.Series]:
    """Features and churn labels at each cutoff, stacked: indexed by (cutoff, customer id).

    Each cutoff is built as build_features builds it, with its own BG/NBD fit, the service
    events up to it, and its own extra frame (extras, keyed by the cutoff's day); a customer
    appears once per cutoff.
    """
    frames, labels = [], []
    for cutoff in cutoffs:
        day = pd.Timestamp(cutoff).normalize()
        built = build_features(
            log,
            day,
            horizon_days=horizon_days,
            unit_days=unit_days,
            service=service,
            extra=None if extras is None else extras.get(day),
            extra_key=extra_key,
            min_repeat_customers=min_repeat_customers,
        )
        index = pd.MultiIndex.from_product([[day], built.frame.index], names=["cutoff", CUSTOMER])
        frames.append(built.frame.set_axis(index))
        labels.append(churn_labels(log, built.frame.index, day, horizon_days).set_axis(index))
    if not frames:
        raise ValueError("no cutoffs given")
    return pd.concat(frames).fillna(0.0), pd.concat(labels)
