"""The transaction log to RFM summary, and what bad input does, on a log small enough to
summarize by hand (time in weeks)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sagemaker_pipelines.models.btyd import InsufficientDataError, fit_bgnbd, fit_gamma_gamma
from sagemaker_pipelines.models.transactions import (
    InvalidRowsError,
    MissingColumnsError,
    PeriodError,
    TransactionColumns,
    TransactionsError,
    clean_transactions,
    rfm_summary,
)

ROWS = [
    ("ann", "2024-01-01", 10.0),
    ("ann", "2024-01-01", 5.0),  # same day: one purchase day worth 15
    ("ann", "2024-01-08", 20.0),
    ("ann", "2024-01-15", 30.0),
    ("ann", "2024-02-01", 40.0),  # holdout
    ("bob", "2024-01-10", 8.0),
    ("cat", "2024-01-25", 12.0),  # first purchase in the holdout
    ("cat", "2024-02-10", 7.0),
]


def log(rows: list[tuple[object, object, object]] = ROWS) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["customer", "ordered_at", "total"])


COLUMNS = TransactionColumns(customer="customer", date="ordered_at", amount="total")


def summarize(frame: pd.DataFrame, **cleaning: object) -> pd.DataFrame:
    clean, _ = clean_transactions(frame, COLUMNS, **cleaning)
    return rfm_summary(clean, "2024-01-20", unit_days=7).customers


def test_summary_by_hand() -> None:
    clean, report = clean_transactions(log(), COLUMNS)
    summary = rfm_summary(clean, "2024-01-20", "2024-02-10", unit_days=7)
    ann, bob = summary.customers.loc["ann"], summary.customers.loc["bob"]
    assert list(summary.customers.index) == ["ann", "bob"]
    assert (ann["frequency"], ann["recency"], ann["T"]) == (2, 2.0, 19 / 7)
    assert ann["monetary_value"] == 25.0  # repeat days 20 and 30; the first day is left out
    assert (ann["holdout_frequency"], ann["holdout_revenue"]) == (1, 40.0)
    assert (bob["frequency"], bob["recency"], bob["T"], bob["monetary_value"]) == (0, 0, 10 / 7, 0)
    assert (bob["holdout_frequency"], bob["holdout_revenue"]) == (0, 0.0)
    assert summary.new_in_holdout == 1
    assert summary.holdout_length == 3.0
    assert (report.rows_read, report.rows_kept, report.duplicate_rows) == (8, 8, 0)


def test_days_are_counted_in_utc() -> None:
    """23:30 at UTC-2 on 14 January is 15 January in UTC: a repeat day, not the first."""
    rows = [("dan", "2024-01-01T10:00:00Z", 10.0), ("dan", "2024-01-14T23:30:00-02:00", 6.0)]
    clean, _ = clean_transactions(log(rows), COLUMNS)
    dan = rfm_summary(clean, "2024-01-15", unit_days=7).customers.loc["dan"]
    assert (dan["frequency"], dan["recency"], dan["T"]) == (1, 2.0, 2.0)


def test_missing_columns_are_named() -> None:
    with pytest.raises(MissingColumnsError, match="total") as error:
        clean_transactions(log().drop(columns="total"), COLUMNS)
    assert error.value.missing == ["total"]


@pytest.mark.parametrize(
    ("row", "column", "reason"),
    [
        (("eve", "yesterday", 5.0), "ordered_at", "unparsable_dates"),
        (("eve", None, 5.0), "ordered_at", "unparsable_dates"),
        (("eve", "2024-01-05", "5,00"), "total", "unparsable_amounts"),
        (("eve", "2024-01-05", -5.0), "total", "negative_amounts"),
        ((None, "2024-01-05", 5.0), "customer", "missing_customers"),
    ],
)
def test_invalid_rows_raise_or_are_dropped_and_counted(
    row: tuple[object, object, object], column: str, reason: str
) -> None:
    frame = log([*ROWS, row, row])
    with pytest.raises(InvalidRowsError) as error:
        clean_transactions(frame, COLUMNS)
    assert (error.value.column, error.value.count) == (column, 2)

    clean, report = clean_transactions(frame, COLUMNS, drop_invalid=True)
    assert getattr(report, reason) == 2
    assert (report.rows_read, report.rows_kept) == (10, 8)
    assert "eve" not in set(clean["customer_id"])


def test_a_negative_amount_left_in_would_have_changed_the_spend() -> None:
    """The reason negative amounts are refused: a refund row would lower ann's mean spend."""
    frame = log([*ROWS, ("ann", "2024-01-15", -30.0)])
    assert summarize(frame, drop_invalid=True).loc["ann", "monetary_value"] == 25.0


def test_duplicate_rows_raise_unless_dropped_or_kept() -> None:
    frame = log([*ROWS, ROWS[3]])  # ann's 30 on 15 January twice
    with pytest.raises(InvalidRowsError, match="1 row") as error:
        clean_transactions(frame, COLUMNS)
    assert error.value.count == 1

    _, report = clean_transactions(frame, COLUMNS, duplicates="drop")
    assert (report.duplicate_rows, report.rows_kept) == (1, 8)
    assert summarize(frame, duplicates="drop").loc["ann", "monetary_value"] == 25.0
    assert summarize(frame, duplicates="keep").loc["ann", "monetary_value"] == 40.0
    with pytest.raises(ValueError, match="duplicates must be"):
        clean_transactions(frame, COLUMNS, duplicates="ignore")  # type: ignore[arg-type]


def test_a_log_with_nothing_valid_left_is_refused() -> None:
    clean, report = clean_transactions(log([("eve", "yesterday", 5.0)]), COLUMNS, drop_invalid=True)
    assert report.rows_kept == 0
    with pytest.raises(TransactionsError, match="empty"):
        rfm_summary(clean, "2024-01-20")


@pytest.mark.parametrize(
    ("calibration_end", "holdout_end", "message"),
    [
        ("2023-12-31", None, "calibration end 2023-12-31 is outside the log"),
        ("2024-02-11", None, "calibration end 2024-02-11 is outside the log"),
        ("2024-01-20", "2024-01-20", "holdout end 2024-01-20 must be after"),
        ("2024-01-20", "2024-03-01", "no later than the log's last day 2024-02-10"),
    ],
)
def test_periods_outside_the_log_are_refused(
    calibration_end: str, holdout_end: str | None, message: str
) -> None:
    clean, _ = clean_transactions(log(), COLUMNS)
    with pytest.raises(PeriodError, match=message):
        rfm_summary(clean, calibration_end, holdout_end)


def test_too_few_repeat_customers_is_refused() -> None:
    frequency = np.array([0.0] * 20 + [1.0] * 3)
    recency = np.where(frequency > 0, 5.0, 0.0)
    age = np.full(frequency.size, 10.0)
    with pytest.raises(InsufficientDataError, match="3 of 23 customers bought again"):
        fit_bgnbd(frequency, recency, age)
    with pytest.raises(InsufficientDataError, match="3 customers have repeat purchases"):
        fit_gamma_gamma(frequency, np.where(frequency > 0, 20.0, 0.0))


@pytest.mark.parametrize(
    ("frequency", "recency", "age", "message"),
    [
        (-1.0, 0.0, 5.0, "frequency is not a whole number"),
        (1.5, 2.0, 5.0, "frequency is not a whole number"),
        (2.0, 6.0, 5.0, "recency is outside"),
        (0.0, 2.0, 5.0, "recency is not 0 where frequency is 0"),
    ],
)
def test_impossible_rfm_values_are_refused(
    frequency: float, recency: float, age: float, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        fit_bgnbd([frequency] * 20, [recency] * 20, [age] * 20)
