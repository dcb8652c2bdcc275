"""customer_features: one row per customer with what they did before a cutoff, the table
the churn and CLV models train and score on (the hand-off from the marts to ML). The rules
are written out in docs/marts.md."""

from __future__ import annotations

from datetime import datetime, timedelta

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as sf

from glue_jobs.transforms.marts.common import MONEY, ratio

MICROS_PER_DAY = 86_400 * 1_000_000
VISIT_WINDOW_DAYS = 28


def _days_before(cutoff: Column, moment: str) -> Column:
    """Whole days from `moment` to the cutoff (in exact microseconds, fractions included)."""
    elapsed = sf.unix_micros(cutoff) - sf.unix_micros(moment)
    return sf.floor(elapsed / MICROS_PER_DAY).cast("int")


def customer_features(
    users: DataFrame,
    orders: DataFrame,
    sessions: DataFrame,
    support_tickets: DataFrame,
    events: DataFrame,
    cutoff: datetime,
) -> DataFrame:
    """One row per user signed up before `cutoff`, from facts dated strictly before it only;
    the tables are the prepared ones, with the curated sessions.

    Every input is filtered on its own event time (placed_at, refunded_at, started_at,
    opened_at, occurred_at) before anything is computed. Order status is not used: it has
    no timestamp, so a cancellation after the cutoff would leak; orders count as placed.
    Carts are those a signed-in user added to (product_added_to_cart), converted when an
    order_completed with the same cart_id came before the cutoff.
    """
    if cutoff.tzinfo is None:
        raise ValueError("the cutoff must be timezone-aware")
    at = sf.lit(cutoff)
    window_start = sf.lit(cutoff - timedelta(days=VISIT_WINDOW_DAYS))
    previous_start = sf.lit(cutoff - timedelta(days=2 * VISIT_WINDOW_DAYS))
    refunded_before = sf.col("refunded_at") < at

    bought = (
        orders.filter(sf.col("placed_at") < at)
        .groupBy("user_id")
        .agg(
            sf.max("placed_at").alias("last_order_at"),
            sf.count(sf.lit(1)).alias("frequency"),
            sf.sum("total").alias("spent"),
            sf.count(sf.when(refunded_before, 1)).alias("refunds"),
            sf.sum(sf.when(refunded_before, sf.col("refunded_amount"))).alias("refund_amount"),
        )
    )
    visits = (
        sessions.filter((sf.col("started_at") < at) & (sf.col("started_at") >= previous_start))
        .groupBy("user_id")
        .agg(
            sf.count(sf.when(sf.col("started_at") >= window_start, 1)).alias("sessions_last_28d"),
            sf.count(sf.when(sf.col("started_at") < window_start, 1)).alias("sessions_prev_28d"),
        )
    )
    carts = (
        events.filter(
            (sf.col("occurred_at") < at)
            & sf.col("user_id").isNotNull()
            & sf.col("event_type").isin("product_added_to_cart", "order_completed")
        )
        .groupBy("user_id", "cart_id")
        .agg(
            sf.max(sf.col("event_type") == "product_added_to_cart").alias("added"),
            sf.max(sf.col("event_type") == "order_completed").alias("ordered"),
        )
        .groupBy("user_id")
        .agg(
            sf.count(sf.when(sf.col("added"), 1)).alias("carts_started"),
            sf.count(sf.when(sf.col("added") & sf.col("ordered"), 1)).alias("carts_converted"),
        )
    )
    tickets = (
        support_tickets.filter(sf.col("opened_at") < at)
        .groupBy("user_id")
        .agg(sf.count(sf.lit(1)).alias("tickets"))
    )
    counts = [
        "frequency", "refunds", "sessions_last_28d", "sessions_prev_28d",
        "carts_started", "carts_converted", "tickets",
    ]  # fmt: skip
    return (
        users.filter(sf.col("signed_up_at") < at)
        .select("user_id", "signed_up_at")
        .join(bought, "user_id", "left")
        .join(visits, "user_id", "left")
        .join(carts, "user_id", "left")
        .join(tickets, "user_id", "left")
        .fillna(0, subset=counts)
        .select(
            "user_id",
            at.alias("cutoff"),
            _days_before(at, "signed_up_at").alias("tenure_days"),
            _days_before(at, "last_order_at").alias("recency_days"),
            "frequency",
            (sf.coalesce("spent", sf.lit(0)) - sf.coalesce("refund_amount", sf.lit(0)))
            .cast(MONEY)
            .alias("monetary"),
            sf.when(sf.col("frequency") > 0, sf.col("spent") / sf.col("frequency"))
            .cast(MONEY)
            .alias("avg_order_value"),
            "sessions_last_28d",
            "sessions_prev_28d",
            (sf.col("sessions_last_28d") - sf.col("sessions_prev_28d")).alias("visit_trend"),
            "carts_started",
            "carts_converted",
            (1 - ratio("carts_converted", "carts_started")).alias("cart_abandonment_rate"),
            "tickets",
            "refunds",
            sf.coalesce("refund_amount", sf.lit(0)).cast(MONEY).alias("refund_amount"),
        )
    )
