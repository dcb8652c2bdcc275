"""From the lake's raw OLTP extracts to the placed transaction log the models fit.

An extract holds several batches: a row appears once per batch it changed in, so only its
latest `updated_at` counts. Placed means every status but 'cancelled', the rule of the
marts' placed orders (glue_jobs/transforms/marts/intermediate.py); the amount is the total.
"""

from __future__ import annotations

import pandas as pd

from sagemaker_pipelines.models.transactions import (
    CleaningReport,
    MissingColumnsError,
    TransactionColumns,
    clean_transactions,
)

ORDER_COLUMNS = ("id", "user_id", "status", "total", "placed_at", "updated_at")
CANCELLED = "cancelled"
ORDER_LOG_COLUMNS = TransactionColumns(customer="user_id", date="placed_at", amount="total")


def latest_rows(raw: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    """One row per id of an extract that must hold `columns`: the version with the latest
    updated_at (ties keep the last row)."""
    missing = [name for name in columns if name not in raw.columns]
    if missing:
        raise MissingColumnsError(missing, [str(name) for name in raw.columns])
    ordered = raw.sort_values("updated_at", kind="stable")
    return ordered.drop_duplicates("id", keep="last").sort_values("id", ignore_index=True)


def latest_orders(raw_orders: pd.DataFrame) -> pd.DataFrame:
    """One row per order id, at its latest version."""
    return latest_rows(raw_orders, ORDER_COLUMNS)


def placed_transactions(raw_orders: pd.DataFrame) -> tuple[pd.DataFrame, CleaningReport]:
    """The placed orders as a clean log (customer_id, date, amount) and its cleaning report.

    Two orders of one customer on one day for the same total are both real sales, so
    identical log rows are kept; rows the log cannot use raise (clean_transactions).
    """
    orders = latest_orders(raw_orders)
    placed = orders[orders["status"] != CANCELLED]
    return clean_transactions(placed, ORDER_LOG_COLUMNS, duplicates="keep")
