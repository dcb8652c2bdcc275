"""Service history: each customer's support tickets and refunds, counted up to a cutoff.

Customers on their way out complain and send orders back in the weeks before they go quiet,
and none of it shows in the transaction log BG/NBD reads. Measured on four generated shops,
adding these two counts lifts the churn model from below the BG/NBD baseline to above it
(docs/ml.md, "Churn"). Each event is dated when it happened (a ticket's opened_at, an order's
refunded_at), so a count at a cutoff sees nothing after that day.
"""

from __future__ import annotations

import pandas as pd

from sagemaker_pipelines.models.orders import latest_rows
from sagemaker_pipelines.models.transactions import CUSTOMER, DATE

KIND = "kind"
TICKETS = "tickets"
REFUNDS = "refunds"
SERVICE_FEATURES = (TICKETS, REFUNDS)
"""The feature columns, in order; each counts one kind of event."""

TICKET_COLUMNS = ("id", "user_id", "opened_at", "updated_at")
REFUND_COLUMNS = ("id", "user_id", "refunded_at", "updated_at")


def service_events(raw_orders: pd.DataFrame, raw_tickets: pd.DataFrame) -> pd.DataFrame:
    """The refunds (orders with a refunded_at) and the tickets as one dated event log:
    customer_id, date (the day, tz-naive UTC, as in the transaction log) and kind."""
    tickets = latest_rows(raw_tickets, TICKET_COLUMNS)
    refunds = latest_rows(raw_orders, REFUND_COLUMNS).dropna(subset=["refunded_at"])
    dated = ((tickets, "opened_at", TICKETS), (refunds, "refunded_at", REFUNDS))
    parts = [
        pd.DataFrame({CUSTOMER: frame["user_id"], DATE: _days(frame[column]), KIND: kind})
        for frame, column, kind in dated
    ]
    return pd.concat(parts, ignore_index=True)


def service_counts(events: pd.DataFrame, cutoff: pd.Timestamp, customers: pd.Index) -> pd.DataFrame:
    """SERVICE_FEATURES per customer: the events dated on or before the cutoff day, float64,
    0 for customers without any."""
    seen = events[events[DATE] <= pd.Timestamp(cutoff).normalize()]
    counts = seen.groupby([CUSTOMER, KIND]).size().unstack(KIND)
    counts = counts.reindex(index=customers, columns=list(SERVICE_FEATURES))
    return counts.fillna(0.0).astype("float64").rename_axis(columns=None)


def _days(values: pd.Series) -> pd.Series:
    stamps = pd.to_datetime(values, utc=True)
    return stamps.dt.tz_localize(None).dt.normalize()
