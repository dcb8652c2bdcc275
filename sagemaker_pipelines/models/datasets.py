"""The training and test sets of one training run: a temporal split of the placed log.

The test set is every customer at the evaluation cutoff, labelled from the horizon after it;
the training set stacks the earlier cutoffs of `training_cutoffs`, whose labels end by the
evaluation cutoff, so nothing the test labels see leaks into training. Cutoffs too early for
a BG/NBD fit are skipped; what is left must hold enough churners and stayers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from sagemaker_pipelines.models.btyd import FitError, InsufficientDataError
from sagemaker_pipelines.models.churn import MIN_PER_CLASS
from sagemaker_pipelines.models.features import (
    DEFAULT_HORIZON_DAYS,
    labelled_examples,
    training_cutoffs,
)
from sagemaker_pipelines.models.transactions import CUSTOMER, DATE, PeriodError

CUTOFF = "cutoff"
LABEL = "churned"
KEYS = (CUTOFF, CUSTOMER)


@dataclass(frozen=True)
class Examples:
    """train and test: one row per (cutoff, customer_id), the features, then the label."""

    train: pd.DataFrame
    test: pd.DataFrame
    cutoff: pd.Timestamp
    training_cutoffs: tuple[pd.Timestamp, ...]
    skipped_cutoffs: tuple[pd.Timestamp, ...]
    uses_extra: bool


def default_cutoff(log: pd.DataFrame, horizon_days: int = DEFAULT_HORIZON_DAYS) -> pd.Timestamp:
    """The latest cutoff whose label window the log covers: its last day minus the horizon."""
    return log[DATE].max() - pd.Timedelta(days=horizon_days)


def feature_columns(examples: pd.DataFrame) -> list[str]:
    """The feature columns of an examples frame (everything but the keys and the label)."""
    return [name for name in examples.columns if name not in (*KEYS, LABEL)]


def split_examples(
    log: pd.DataFrame,
    cutoff: str | pd.Timestamp | None = None,
    *,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
    service: pd.DataFrame | None = None,
    extras: Mapping[pd.Timestamp, pd.DataFrame] | None = None,
    min_per_class: int = MIN_PER_CLASS,
) -> Examples:
    """Test examples at `cutoff` (default_cutoff when None), training examples before it.

    With `service` (service.service_events), every example counts the tickets and refunds up
    to its own cutoff.

    The extra frames (the customer_features mart, by cutoff day) are used only when there is
    one for every cutoff, so that train and test see the same columns. Raises PeriodError or
    InsufficientDataError, naming what is missing, when the log is too short or too thin.
    """
    day = default_cutoff(log, horizon_days) if cutoff is None else pd.Timestamp(cutoff)
    day = day.normalize()
    first_day = log[DATE].min()
    candidates = [c for c in training_cutoffs(day, horizon_days) if c > first_day]
    uses_extra = extras is not None and all(c in extras for c in [day, *candidates])
    chosen_extras = extras if uses_extra else None

    test = _examples(log, [day], horizon_days, service, chosen_extras)
    churners = int(test[LABEL].sum())
    if churners in (0, len(test)):
        raise InsufficientDataError(
            f"the holdout after {day.date()} has {churners} churner(s) among {len(test)} "
            "customers; evaluation needs both outcomes"
        )
    parts, used, skipped = [], [], []
    for candidate in candidates:
        try:
            parts.append(_examples(log, [candidate], horizon_days, service, chosen_extras))
            used.append(candidate)
        except (InsufficientDataError, FitError, PeriodError):
            skipped.append(candidate)
    if not parts:
        raise InsufficientDataError(
            f"no training cutoff before {day.date()} has enough history "
            f"(the log starts on {first_day.date()}); at least {horizon_days} days of orders "
            "before the evaluation cutoff's label window are needed"
        )
    train = pd.concat(parts, ignore_index=True)
    churned, stayed = int(train[LABEL].sum()), int((~train[LABEL]).sum())
    if min(churned, stayed) < min_per_class:
        raise InsufficientDataError(
            f"the training cutoffs hold {churned} churned and {stayed} stayed; "
            f"the churn model needs at least {min_per_class} of each"
        )
    return Examples(train, test, day, tuple(used), tuple(skipped), uses_extra)


def _examples(
    log: pd.DataFrame,
    cutoffs: list[pd.Timestamp],
    horizon_days: int,
    service: pd.DataFrame | None,
    extras: Mapping[pd.Timestamp, pd.DataFrame] | None,
) -> pd.DataFrame:
    features, labels = labelled_examples(
        log, cutoffs, horizon_days=horizon_days, service=service, extras=extras
    )
    return features.assign(**{LABEL: labels}).reset_index()
