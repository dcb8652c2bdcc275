"""Action segments: each rule decides the case it is written for, the rules cover every
combination, and docs/ml.md shows them as they are."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from glue_jobs.transforms.marts.customers import RFM_SEGMENT_RULES
from sagemaker_pipelines.models.segments import (
    ACTION_RULES,
    BANDS,
    action_segment,
    action_segments,
    bands,
    clv_bands,
    render_rules,
)

MART_SEGMENTS = [name for name, _ in RFM_SEGMENT_RULES]
DOCS = Path(__file__).resolve().parents[2] / "docs" / "ml.md"


@pytest.mark.parametrize(
    ("rfm_segment", "churn_band", "clv_band", "expected"),
    [
        (None, "high", "high", "first order pending"),
        (None, "low", "low", "first order pending"),
        ("champions", "high", "high", "high value at risk"),
        ("new", "high", "high", "high value at risk"),
        ("new", "low", "medium", "new promising"),
        ("potential_loyalists", "medium", "high", "new promising"),
        ("new", "low", "low", "active low value"),
        ("champions", "low", "high", "loyal high value"),
        ("loyal", "medium", "high", "loyal high value"),
        ("at_risk", "high", "medium", "at risk mid value"),
        ("hibernating", "high", "low", "hibernating low value"),
        ("loyal", "low", "medium", "steady mid value"),
        ("lost", "medium", "low", "active low value"),
    ],
)
def test_each_rule_decides_its_case(
    rfm_segment: str | None, churn_band: str, clv_band: str, expected: str
) -> None:
    assert action_segment(rfm_segment, churn_band, clv_band) == expected


def test_every_rule_is_the_first_match_for_some_input() -> None:
    inputs = itertools.product([None, *MART_SEGMENTS], BANDS, BANDS)
    decided = {action_segment(*combination) for combination in inputs}
    assert decided == {rule.label for rule in ACTION_RULES}


def test_rules_name_only_segments_the_mart_assigns() -> None:
    named = set().union(*(rule.rfm_segments or set() for rule in ACTION_RULES))
    assert named - {None} <= set(MART_SEGMENTS)
    assert {band for rule in ACTION_RULES for band in rule.churn_bands or ()} <= set(BANDS)


def test_an_input_no_rule_covers_is_refused() -> None:
    with pytest.raises(ValueError, match="no action rule"):
        action_segment("champions", "extreme", "high")  # type: ignore[arg-type]


def test_action_segments_labels_aligned_sequences() -> None:
    assert action_segments([None, "lost"], ["low", "high"], ["low", "low"]) == [
        "first order pending",
        "hibernating low value",
    ]
    with pytest.raises(ValueError, match="longer"):
        action_segments([None], ["low", "high"], ["low", "low"])


def test_bands_include_each_lower_bound() -> None:
    values = [0.0, 0.49, 0.5, 0.79, 0.8, 1.0]
    assert list(bands(values, 0.5, 0.8)) == ["low", "low", "medium", "medium", "high", "high"]
    assert list(bands(values, 0.8, 0.8)) == ["low", "low", "low", "low", "high", "high"]
    with pytest.raises(ValueError, match="must not exceed"):
        bands(values, 0.9, 0.8)
    with pytest.raises(ValueError, match="NaN"):
        bands([np.nan], 0.5, 0.8)


def test_clv_bands_cut_at_quantiles_of_the_scored_customers() -> None:
    clv = np.arange(10.0)  # median 4.5, 80th percentile 7.2
    assert list(clv_bands(clv)) == ["low"] * 5 + ["medium"] * 3 + ["high"] * 2
    assert list(clv_bands(clv, 0.0, 0.5)) == ["medium"] * 5 + ["high"] * 5


def test_docs_show_the_rules_as_they_are() -> None:
    assert render_rules() in DOCS.read_text(encoding="utf-8")
