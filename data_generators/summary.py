"""Headline figures of a generated store, computed from PostgreSQL (not from the generator)."""

from __future__ import annotations

from decimal import Decimal

import psycopg
from pydantic import BaseModel

from data_generators.sink import TABLE_COLUMNS


class StoreSummary(BaseModel):
    rows_per_table: dict[str, int]
    gross_revenue: Decimal
    refunded: Decimal
    net_revenue: Decimal
    sessions: int
    orders: int
    session_to_order_conversion: float
    carts_abandoned: int
    carts_converted: int
    cart_abandonment_rate: float
    customers: int
    churned_customers: int
    churn_share: float


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def summarize_store(database_url: str) -> StoreSummary:
    with psycopg.connect(database_url) as conn:
        rows = {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608 table names from the project's TABLE_COLUMNS
            for table in (*TABLE_COLUMNS, "synthetic.generation_runs")
        }
        # Conversion counts only orders placed in a recorded session: history orders have none.
        gross, refunded, session_orders = conn.execute(
            "SELECT coalesce(sum(total), 0), coalesce(sum(refunded_amount), 0),"
            "       count(session_id) FROM orders"
        ).fetchone()
        abandoned, converted = conn.execute(
            "SELECT count(*) FILTER (WHERE status = 'abandoned'),"
            "       count(*) FILTER (WHERE status = 'converted') FROM carts"
        ).fetchone()
        customers, churned = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE churned) FROM synthetic.customer_profiles"
        ).fetchone()
    return StoreSummary(
        rows_per_table=rows,
        gross_revenue=gross,
        refunded=refunded,
        net_revenue=gross - refunded,
        sessions=rows["sessions"],
        orders=rows["orders"],
        session_to_order_conversion=_ratio(session_orders, rows["sessions"]),
        carts_abandoned=abandoned,
        carts_converted=converted,
        cart_abandonment_rate=_ratio(abandoned, abandoned + converted),
        customers=customers,
        churned_customers=churned,
        churn_share=_ratio(churned, customers),
    )
