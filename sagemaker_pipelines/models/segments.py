"""Action segments: what to do with a customer, from their RFM segment, churn band and CLV band.

The rules are data (ACTION_RULES, first match wins) so docs/ml.md can show them as they are
and a test can prove that every combination of inputs gets exactly the label the table says.
RFM segments are the names the mart_rfm_segments mart assigns
(glue_jobs/transforms/marts/customers.py); None stands for a customer without a placed order,
whom that mart does not list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

Band = Literal["low", "medium", "high"]
BANDS: tuple[Band, ...] = ("low", "medium", "high")

CLV_MEDIUM_QUANTILE = 0.5
CLV_HIGH_QUANTILE = 0.8
"""Default CLV bands relative to the scored customers: the top fifth is high, the bottom half
low; money thresholds depend on the shop, ranks do not."""


def bands(values: ArrayLike, medium_from: float, high_from: float) -> NDArray[np.str_]:
    """low below medium_from, medium from it, high from high_from (each bound inclusive)."""
    if not medium_from <= high_from:
        raise ValueError(f"medium_from {medium_from} must not exceed high_from {high_from}")
    values = np.asarray(values, dtype=np.float64)
    if np.isnan(values).any():
        raise ValueError(f"{int(np.isnan(values).sum())} value(s) are NaN; bands need numbers")
    return np.where(values >= high_from, "high", np.where(values >= medium_from, "medium", "low"))


def clv_bands(
    clv: ArrayLike,
    medium_quantile: float = CLV_MEDIUM_QUANTILE,
    high_quantile: float = CLV_HIGH_QUANTILE,
) -> NDArray[np.str_]:
    """CLV bands with thresholds at quantiles of the customers given (see `bands`)."""
    clv = np.asarray(clv, dtype=np.float64)
    medium_from, high_from = np.quantile(clv, [medium_quantile, high_quantile])
    return bands(clv, float(medium_from), float(high_from))


@dataclass(frozen=True)
class ActionRule:
    """One row of the rule table: None in a condition means any value."""

    label: str
    rfm_segments: frozenset[str | None] | None
    churn_bands: frozenset[Band] | None
    clv_bands: frozenset[Band] | None
    action: str

    def matches(self, rfm_segment: str | None, churn_band: Band, clv_band: Band) -> bool:
        return (
            (self.rfm_segments is None or rfm_segment in self.rfm_segments)
            and (self.churn_bands is None or churn_band in self.churn_bands)
            and (self.clv_bands is None or clv_band in self.clv_bands)
        )


ACTION_RULES: tuple[ActionRule, ...] = (
    ActionRule(
        "first order pending",
        frozenset({None}),
        None,
        None,
        "welcome series and a first-order incentive",
    ),
    ActionRule(
        "high value at risk",
        None,
        frozenset({"high"}),
        frozenset({"high"}),
        "personal win-back: contact them, fix what went wrong, a tailored offer",
    ),
    ActionRule(
        "new promising",
        frozenset({"new", "potential_loyalists"}),
        frozenset({"low", "medium"}),
        frozenset({"medium", "high"}),
        "onboarding: recommendations and a nudge towards the next order",
    ),
    ActionRule(
        "loyal high value",
        None,
        frozenset({"low", "medium"}),
        frozenset({"high"}),
        "recognition without discounts: early access, service priority",
    ),
    ActionRule(
        "at risk mid value",
        None,
        frozenset({"high"}),
        frozenset({"medium"}),
        "reactivation campaign with a moderate incentive",
    ),
    ActionRule(
        "hibernating low value",
        None,
        frozenset({"high"}),
        frozenset({"low"}),
        "automated reminders only; no paid incentives",
    ),
    ActionRule(
        "steady mid value",
        None,
        frozenset({"low", "medium"}),
        frozenset({"medium"}),
        "regular newsletter and cross-sell",
    ),
    ActionRule(
        "active low value",
        None,
        frozenset({"low", "medium"}),
        frozenset({"low"}),
        "upsell: bundles and free-shipping thresholds",
    ),
)


def action_segment(rfm_segment: str | None, churn_band: Band, clv_band: Band) -> str:
    """The label of the first rule that matches (the rules cover every combination)."""
    for rule in ACTION_RULES:
        if rule.matches(rfm_segment, churn_band, clv_band):
            return rule.label
    raise ValueError(f"no action rule for ({rfm_segment!r}, {churn_band!r}, {clv_band!r})")


def action_segments(
    rfm_segment: Sequence[str | None], churn_band: Sequence[Band], clv_band: Sequence[Band]
) -> list[str]:
    """action_segment for each customer; the three sequences must be aligned (same length)."""
    return [
        action_segment(segment, churn, clv)
        for segment, churn, clv in zip(rfm_segment, churn_band, clv_band, strict=True)
    ]


def render_rules() -> str:
    """ACTION_RULES as the Markdown table docs/ml.md shows (a test keeps them equal)."""

    def cell(values: frozenset[str | None] | frozenset[Band] | None) -> str:
        if values is None:
            return "any"
        order = {name: position for position, name in enumerate(BANDS)}
        names = ["no order yet" if value is None else value for value in values]
        return ", ".join(sorted(names, key=lambda name: (order.get(name, len(order)), name)))

    lines = [
        "| # | Action segment | RFM segment | Churn band | CLV band | What to do |",
        "|---|---|---|---|---|---|",
    ]
    for number, rule in enumerate(ACTION_RULES, start=1):
        lines.append(
            f"| {number} | {rule.label} | {cell(rule.rfm_segments)} | {cell(rule.churn_bands)} "
            f"| {cell(rule.clv_bands)} | {rule.action} |"
        )
    return "\n".join(lines)
