"""Features at a cutoff: hand-checked values, no use of anything after the cutoff, defined
values for new customers, the extra mart columns, and the churn label after the cutoff."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from cdnow_like_shops import cdnow_like_shop

from sagemaker_pipelines.models.features import (
    EXTRA_PREFIX,
    FEATURES,
    build_features,
    churn_labels,
    labelled_examples,
    training_cutoffs,
)
from sagemaker_pipelines.models.transactions import AMOUNT, CUSTOMER, DATE, PeriodError

CUTOFF = pd.Timestamp("2024-12-31")
DAY = pd.Timedelta(days=1)


@pytest.fixture(scope="module")
def log() -> pd.DataFrame:
    """2,000 simulated customers (CDNOW's parameters, in weeks) and three written by hand."""
    simulated = cdnow_like_shop(2_000, 180, "2025-07-01", seed=11).log
    by_hand = pd.DataFrame(
        [
            (900_001, CUTOFF - 20 * DAY, 10.0),
            (900_001, CUTOFF - 20 * DAY, 30.0),
            (900_001, CUTOFF - 5 * DAY, 20.0),
            (900_001, CUTOFF + 3 * DAY, 99.0),
            (900_002, CUTOFF, 50.0),
            (900_003, CUTOFF + 1 * DAY, 5.0),
        ],
        columns=[CUSTOMER, DATE, AMOUNT],
    )
    return pd.concat([simulated, by_hand], ignore_index=True)


def test_features_of_customers_written_by_hand(log: pd.DataFrame) -> None:
    built = build_features(log, CUTOFF)
    frame = built.frame
    assert list(frame.columns) == list(FEATURES)
    # Two purchase days (the first holds two orders) 15 days apart, the last 5 days ago.
    assert frame.loc[900_001, ["frequency", "recency", "T"]].tolist() == [1.0, 15.0, 20.0]
    assert frame.loc[900_001, ["order_count", "mean_order_value"]].tolist() == [3.0, 20.0]
    assert frame.loc[900_001, "days_since_last_order"] == 5.0
    assert frame.loc[900_002].to_dict() | {"p_alive": 0, "expected_purchases": 0} == {
        "frequency": 0.0,
        "recency": 0.0,
        "T": 0.0,
        "order_count": 1.0,
        "mean_order_value": 50.0,
        "days_since_last_order": 0.0,
        "p_alive": 0,
        "expected_purchases": 0,
        "new_customer": 0.0,
    }
    assert 900_003 not in frame.index  # first order after the cutoff

    bgnbd = built.bgnbd
    x, t_x, big_t = frame["frequency"], frame["recency"], frame["T"]
    np.testing.assert_allclose(frame["p_alive"], bgnbd.p_alive(x, t_x, big_t))
    np.testing.assert_allclose(
        frame["expected_purchases"], bgnbd.conditional_expected_purchases(90, x, t_x, big_t)
    )
    assert frame.dtypes.eq(np.float64).all()
    assert not frame.isna().any().any()


def test_nothing_after_the_cutoff_changes_a_feature(log: pd.DataFrame) -> None:
    """Triple every later amount, move every later order to another later day and add
    customers who first buy later: features and the BG/NBD fit stay exactly the same."""
    later = log[DATE] > CUTOFF
    changed = log.copy()
    changed.loc[later, AMOUNT] *= 3
    rng = np.random.default_rng(5)
    changed.loc[later, DATE] = CUTOFF + pd.to_timedelta(rng.integers(1, 150, later.sum()), "D")
    newcomers = pd.DataFrame(
        {CUSTOMER: [990_001, 990_002], DATE: [CUTOFF + DAY] * 2, AMOUNT: [1.0, 2.0]}
    )
    changed = pd.concat([changed, newcomers], ignore_index=True)

    before, after = build_features(log, CUTOFF), build_features(changed, CUTOFF)
    pd.testing.assert_frame_equal(before.frame, after.frame)
    assert before.bgnbd == after.bgnbd


def test_new_customers_get_defined_values_and_a_flag(log: pd.DataFrame) -> None:
    built = build_features(log, CUTOFF, customers=[900_003, 7_777_777])
    new = built.frame.loc[[900_003, 7_777_777]]
    assert (new["new_customer"] == 1.0).all()
    assert (new[["frequency", "recency", "T", "order_count", "mean_order_value"]] == 0).all().all()
    assert (new["days_since_last_order"] == 0).all()
    assert (new["p_alive"] == 1.0).all()
    assert new["expected_purchases"].tolist() == [built.bgnbd.expected_purchases(90.0)] * 2
    assert built.frame.drop(index=[900_003, 7_777_777])["new_customer"].eq(0).all()


def test_extra_columns_join_under_a_prefix(log: pd.DataFrame) -> None:
    extra = pd.DataFrame(
        {
            "user_id": [900_001, 5_555_555],
            "cutoff": pd.to_datetime(["2025-01-01", "2025-01-01"], utc=True),
            "cutoff_date": [pd.Timestamp("2025-01-01").date()] * 2,
            "tickets": [2, 1],
            "monetary": [Decimal("60.00"), Decimal("0.00")],
            "cart_abandonment_rate": [0.25, None],
        }
    )
    frame = build_features(log, CUTOFF, extra=extra).frame
    added = [f"{EXTRA_PREFIX}{name}" for name in ("tickets", "monetary", "cart_abandonment_rate")]
    assert list(frame.columns) == [*FEATURES, *added]
    assert frame.loc[900_001, added].tolist() == [2.0, 60.0, 0.25]
    assert frame.loc[5_555_555, added].tolist() == [1.0, 0.0, 0.0]  # missing rate -> 0
    assert frame.loc[5_555_555, "new_customer"] == 1.0  # in the mart, no order yet
    assert frame.loc[900_002, added].tolist() == [0.0, 0.0, 0.0]  # not in the mart
    assert not frame.isna().any().any()


def test_extra_frames_must_be_keyed_once_per_customer(log: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="no key column 'user_id'"):
        build_features(log, CUTOFF, extra=pd.DataFrame({"id": [1]}))
    with pytest.raises(ValueError, match="1 repeated user_id"):
        build_features(log, CUTOFF, extra=pd.DataFrame({"user_id": [1, 1], "tickets": [0, 1]}))


def test_a_cutoff_outside_the_log_is_refused(log: pd.DataFrame) -> None:
    with pytest.raises(PeriodError, match="outside the log"):
        build_features(log, "2023-06-30")
    with pytest.raises(ValueError, match="horizon_days"):
        build_features(log, CUTOFF, horizon_days=0)


def test_churn_label_is_no_order_in_the_days_after_the_cutoff() -> None:
    cutoff = pd.Timestamp("2024-03-31")
    log = pd.DataFrame(
        [
            (1, cutoff, 1.0),  # only on the cutoff day itself: churned
            (2, cutoff + 90 * DAY, 1.0),  # the window's last day: stayed
            (3, cutoff + 91 * DAY, 1.0),  # one day too late: churned
            (4, cutoff + DAY, 1.0),  # the window's first day: stayed
        ],
        columns=[CUSTOMER, DATE, AMOUNT],
    )
    labels = churn_labels(log, pd.Index([1, 2, 3, 4, 5]), cutoff)
    assert labels.tolist() == [True, False, True, False, True]
    assert churn_labels(log, pd.Index([2, 3]), cutoff, horizon_days=91).tolist() == [False, False]
    with pytest.raises(PeriodError, match="after the log's last day"):
        churn_labels(log, pd.Index([1]), cutoff, horizon_days=92)


def test_training_cutoffs_end_a_horizon_before_the_evaluation_cutoff() -> None:
    cutoffs = training_cutoffs("2025-03-31", horizon_days=90, count=3, spacing_days=60)
    assert cutoffs == [pd.Timestamp(day) for day in ("2024-12-31", "2024-11-01", "2024-09-02")]
    with pytest.raises(ValueError, match="count and spacing_days"):
        training_cutoffs("2025-03-31", count=0)


def test_labelled_examples_stack_each_cutoffs_features_and_labels(log: pd.DataFrame) -> None:
    cutoffs = [CUTOFF, CUTOFF - 60 * DAY]
    extra = pd.DataFrame({"user_id": [900_001], "tickets": [4]})
    features, labels = labelled_examples(log, cutoffs, extras={CUTOFF: extra})
    assert features.index.names == ["cutoff", CUSTOMER]
    assert features.index.equals(labels.index)
    for cutoff in cutoffs:
        alone = build_features(log, cutoff).frame
        stacked = features.loc[cutoff]
        pd.testing.assert_frame_equal(stacked[list(FEATURES)], alone, check_names=False)
        assert labels.loc[cutoff].equals(churn_labels(log, alone.index, cutoff))
    assert features.loc[(CUTOFF, 900_001), "cf_tickets"] == 4.0
    assert features.loc[CUTOFF - 60 * DAY, "cf_tickets"].eq(0).all()
    assert labels.loc[(CUTOFF, 900_001)] == np.False_  # ordered 3 days after the cutoff
    with pytest.raises(ValueError, match="no cutoffs"):
        labelled_examples(log, [])
