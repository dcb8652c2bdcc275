"""From a transaction log to the per-customer RFM summary the BTYD models fit.

Two steps: `clean_transactions` checks (or, when asked, drops and counts) what would
otherwise turn into silent garbage, and `rfm_summary` collapses the clean log into purchase
days and summarizes each customer at a calibration end, with an optional holdout after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pandas as pd

CUSTOMER = "customer_id"
DATE = "date"
AMOUNT = "amount"

DuplicatePolicy = Literal["raise", "drop", "keep"]


class TransactionsError(ValueError):
    """A transaction log that cannot be summarized as given."""


class MissingColumnsError(TransactionsError):
    def __init__(self, missing: list[str], present: list[str]) -> None:
        self.missing = missing
        super().__init__(f"missing column(s) {missing}; the log has {present}")


class InvalidRowsError(TransactionsError):
    """Rows whose value in one column is unusable; pass drop_invalid=True to drop them."""

    def __init__(self, column: str, problem: str, count: int) -> None:
        self.column = column
        self.problem = problem
        self.count = count
        super().__init__(f"{count} row(s) with {problem} in column {column!r}")


class PeriodError(TransactionsError):
    """A calibration or holdout end that the log does not cover."""


@dataclass(frozen=True)
class TransactionColumns:
    """Which columns of the input hold the customer, the date or timestamp and the amount."""

    customer: str = CUSTOMER
    date: str = DATE
    amount: str = AMOUNT


@dataclass(frozen=True)
class CleaningReport:
    """What cleaning found: rows read, rows kept and the rows behind each reason (a row with
    two problems counts under both; duplicates are counted among the otherwise valid rows)."""

    rows_read: int
    missing_customers: int
    unparsable_dates: int
    unparsable_amounts: int
    negative_amounts: int
    duplicate_rows: int
    rows_kept: int


def clean_transactions(
    frame: pd.DataFrame,
    columns: TransactionColumns | None = None,
    *,
    drop_invalid: bool = False,
    duplicates: DuplicatePolicy = "raise",
    date_format: str | None = None,
) -> tuple[pd.DataFrame, CleaningReport]:
    """The log as columns customer_id, date (day, tz-naive UTC) and amount (float), and a report.

    Rows with no customer, a date or amount that does not parse, or a negative amount raise
    InvalidRowsError (naming the column and the row count) unless drop_invalid, which drops
    and counts them. Fully identical rows raise too unless duplicates says to drop or keep
    them: some logs (CDNOW) hold genuine identical orders, others a double load. Dates are
    parsed as ISO 8601 unless date_format is given; timestamps with a zone are taken to UTC.
    """
    if duplicates not in ("raise", "drop", "keep"):
        raise ValueError(f"duplicates must be 'raise', 'drop' or 'keep', got {duplicates!r}")
    columns = columns or TransactionColumns()
    wanted = [columns.customer, columns.date, columns.amount]
    missing = [name for name in wanted if name not in frame.columns]
    if missing:
        raise MissingColumnsError(missing, [str(name) for name in frame.columns])

    rows_read = len(frame)
    log = pd.DataFrame(
        {
            CUSTOMER: frame[columns.customer].to_numpy(),
            DATE: _parse_dates(frame[columns.date], date_format).to_numpy(),
            AMOUNT: pd.to_numeric(frame[columns.amount], errors="coerce").to_numpy(),
        }
    )
    checks = {
        "missing_customers": (columns.customer, "no customer id", log[CUSTOMER].isna()),
        "unparsable_dates": (columns.date, "a missing or unparsable date", log[DATE].isna()),
        "unparsable_amounts": (
            columns.amount,
            "a missing or unparsable amount",
            log[AMOUNT].isna(),
        ),
        "negative_amounts": (columns.amount, "a negative amount", log[AMOUNT] < 0),
    }
    bad = pd.Series(False, index=log.index)
    for column, problem, rows in checks.values():
        if rows.any() and not drop_invalid:
            raise InvalidRowsError(column, problem, int(rows.sum()))
        bad |= rows
    log = log[~bad]

    duplicated = log.duplicated()
    if duplicated.any() and duplicates == "raise":
        raise InvalidRowsError(", ".join(wanted), "an identical earlier row", int(duplicated.sum()))
    if duplicates == "drop":
        log = log[~duplicated]

    report = CleaningReport(
        rows_read=rows_read,
        **{reason: int(rows.sum()) for reason, (_, _, rows) in checks.items()},
        duplicate_rows=int(duplicated.sum()),
        rows_kept=len(log),
    )
    return log.reset_index(drop=True), report


def _parse_dates(values: pd.Series, date_format: str | None) -> pd.Series:
    """Days (midnight, tz-naive UTC); NaT where a value does not parse."""
    if not pd.api.types.is_datetime64_any_dtype(values):
        values = pd.to_datetime(
            values.astype("string"), errors="coerce", utc=True, format=date_format or "ISO8601"
        )
    elif values.dt.tz is None:
        values = values.dt.tz_localize("UTC")
    return values.dt.tz_convert("UTC").dt.tz_localize(None).dt.normalize()


@dataclass(frozen=True)
class RfmSummary:
    """Per-customer RFM at a calibration end, in units of unit_days days.

    customers is indexed by customer id, one row per customer whose first purchase is on or
    before the calibration end, with frequency (repeat purchase days), recency (first to last
    purchase day), T (first purchase day to the calibration end) and monetary_value (mean
    revenue of the repeat purchase days, 0 without one); with a holdout also
    holdout_frequency (purchase days in the holdout) and holdout_revenue.
    """

    customers: pd.DataFrame
    calibration_end: pd.Timestamp
    holdout_end: pd.Timestamp | None
    unit_days: float
    new_in_holdout: int
    """Customers whose first purchase falls in the holdout (not summarized)."""

    @property
    def holdout_length(self) -> float | None:
        """The holdout's length in model time units."""
        if self.holdout_end is None:
            return None
        return (self.holdout_end - self.calibration_end).days / self.unit_days


def rfm_summary(
    transactions: pd.DataFrame,
    calibration_end: str | pd.Timestamp,
    holdout_end: str | pd.Timestamp | None = None,
    *,
    unit_days: float = 1.0,
) -> RfmSummary:
    """Summarize a clean log (from clean_transactions) at calibration_end (inclusive).

    Purchases on the same day count once (a purchase day's revenue is their sum), as in the
    BG/NBD papers. The holdout runs from the day after calibration_end to holdout_end,
    inclusive. Both ends must lie within the log's first and last day.
    """
    if unit_days <= 0:
        raise ValueError(f"unit_days must be > 0, got {unit_days}")
    if transactions.empty:
        raise TransactionsError("the transaction log is empty")
    calibration = pd.Timestamp(calibration_end).normalize()
    holdout = None if holdout_end is None else pd.Timestamp(holdout_end).normalize()
    first_day, last_day = transactions[DATE].min(), transactions[DATE].max()
    if not first_day <= calibration <= last_day:
        raise PeriodError(
            f"calibration end {calibration.date()} is outside the log "
            f"({first_day.date()} to {last_day.date()})"
        )
    if holdout is not None and not calibration < holdout <= last_day:
        raise PeriodError(
            f"holdout end {holdout.date()} must be after the calibration end "
            f"{calibration.date()} and no later than the log's last day {last_day.date()}"
        )

    days = transactions.groupby([CUSTOMER, DATE], sort=True)[AMOUNT].sum().reset_index()
    in_calibration = days[days[DATE] <= calibration]
    per_customer = in_calibration.groupby(CUSTOMER)
    first = per_customer[DATE].min()
    last = per_customer[DATE].max()
    frequency = per_customer.size() - 1
    repeat = in_calibration[in_calibration[DATE] > in_calibration[CUSTOMER].map(first)]
    repeat_value = repeat.groupby(CUSTOMER)[AMOUNT].mean()

    unit = pd.Timedelta(days=unit_days)
    customers = pd.DataFrame(
        {
            "frequency": frequency.astype("int64"),
            "recency": (last - first) / unit,
            "T": (calibration - first) / unit,
            "monetary_value": repeat_value.reindex(first.index, fill_value=0.0),
        }
    )
    new_in_holdout = 0
    if holdout is not None:
        in_holdout = days[(days[DATE] > calibration) & (days[DATE] <= holdout)]
        by_customer = in_holdout.groupby(CUSTOMER)[AMOUNT]
        customers["holdout_frequency"] = (
            by_customer.size().reindex(customers.index, fill_value=0).astype("int64")
        )
        customers["holdout_revenue"] = by_customer.sum().reindex(customers.index, fill_value=0.0)
        new_in_holdout = int((~in_holdout[CUSTOMER].drop_duplicates().isin(first.index)).sum())
    customers.index.name = CUSTOMER
    return RfmSummary(customers, calibration, holdout, unit_days, new_in_holdout)
