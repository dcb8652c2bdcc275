"""From the lake's raw OLTP extract of `orders` to the placed transaction log the models fit.

The extract holds several batches: an order appears once per batch it changed in, so only
its latest `updated_at` counts. Placed means every status but 'cancelled', the rule of the
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


def latest_orders(raw_orders: pd.DataFrame) -> pd.DataFrame:
    """One row per order id: the version with the latest updated_at (ties keep the last row)."""
    missing = [name for name in ORDER_COLUMNS if name not in raw_orders.columns]
    if missing:
        raise MissingColumnsError(missing, [str(name) for name in raw_orders.columns])
    ordered = raw_orders.sort_values("updated_at", kind="stable")
    return ordered.drop_duplicates("id", keep="last").sort_values("id", ignore_index=True)


def placed_transactions(raw_orders: pd.DataFrame) -> tuple[pd.DataFrame, CleaningReport]:
    """The placed orders as a clean log (customer_id, date, amount) and its cleaning report.

    Two orders of one customer on one day for the same total are both real sales, so
    identical log rows are kept; rows the log cannot use raise (clean_transactions).
    """
    orders = latest_orders(raw_orders)
    placed = orders[orders["status"] != CANCELLED]
    return clean_transactions(placed, ORDER_LOG_COLUMNS, duplicates="keep")
