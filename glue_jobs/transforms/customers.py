"""Customer marts: cohort retention, RFM segments and the features the churn and CLV models
train on. The rules are written out in docs/marts.md."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as sf

from glue_jobs.transforms.common import MONEY, placed_orders, ratio

MICROS_PER_DAY = 86_400 * 1_000_000
VISIT_WINDOW_DAYS = 28

# First matching rule wins; R is the recency score, FM the mean of the F and M scores.
RFM_SEGMENT_RULES = (
    ("champions", "r >= 4 AND fm >= 4"),
    ("loyal", "r >= 3 AND fm >= 3"),
    ("cannot_lose", "r <= 2 AND fm >= 4"),
    ("at_risk", "r <= 2 AND fm >= 3"),
    ("new", "r >= 4 AND frequency = 1"),
    ("potential_loyalists", "r >= 3"),
    ("hibernating", "r = 2"),
    ("lost", "r = 1"),
)


def _weeks_between(later: str, earlier: str) -> Column:
    return (sf.datediff(later, earlier) / 7).cast("int")


def cohort_retention(orders: DataFrame) -> DataFrame:
    """mart_cohort_retention: acquisition week (Monday of the first order) x weeks since.

    A customer is active in a week when they placed a non-cancelled order in it. Every
    cohort gets a row for each week up to the last week with any order, zeros included.
    """
    weekly = placed_orders(orders).select(
        "user_id", sf.to_date(sf.date_trunc("week", "placed_at")).alias("order_week")
    )
    cohorts = weekly.groupBy("user_id").agg(sf.min("order_week").alias("cohort_week"))
    last_week = weekly.agg(sf.max("order_week").alias("last_week"))
    active = (
        weekly.join(cohorts, "user_id")
        .select(
            "cohort_week",
            _weeks_between("order_week", "cohort_week").alias("weeks_since"),
            "user_id",
        )
        .groupBy("cohort_week", "weeks_since")
        .agg(sf.count_distinct("user_id").alias("active_customers"))
    )
    grid = (
        cohorts.groupBy("cohort_week")
        .agg(sf.count(sf.lit(1)).alias("cohort_size"))
        .crossJoin(last_week)
        .select(
            "cohort_week",
            "cohort_size",
            sf.explode(sf.sequence(sf.lit(0), _weeks_between("last_week", "cohort_week"))).alias(
                "weeks_since"
            ),
        )
    )
    return (
        grid.join(active, ["cohort_week", "weeks_since"], "left")
        .fillna(0, subset=["active_customers"])
        .withColumn("retention_rate", ratio("active_customers", "cohort_size"))
    )


def _quintile_score(value: str, higher_is_better: bool = True) -> Column:
    """1..5 by rank among all customers: 1 + floor(5 * (rank - 1) / n). Ties share a score
    (rank gives them the lowest position), so the score never depends on row order."""
    order = sf.col(value).asc() if higher_is_better else sf.col(value).desc()
    everyone = Window.partitionBy()
    rank = sf.rank().over(Window.orderBy(order))
    return (1 + sf.floor(5 * (rank - 1) / sf.count(sf.lit(1)).over(everyone))).cast("int")


def rfm_segments(orders: DataFrame, as_of: date) -> DataFrame:
    """mart_rfm_segments: one row per customer with a non-cancelled order before `as_of`.

    Recency is days from the last order's date to `as_of`; frequency the number of orders;
    monetary what they paid net of refunds.
    """
    segment = sf.lit(None).cast("string")
    for name, rule in reversed(RFM_SEGMENT_RULES):
        segment = sf.when(sf.expr(rule), name).otherwise(segment)
    return (
        placed_orders(orders)
        .filter(sf.col("placed_at") < sf.lit(as_of))
        .groupBy("user_id")
        .agg(
            sf.max("placed_at").alias("last_order_at"),
            sf.count(sf.lit(1)).alias("frequency"),
            sf.sum(sf.col("total") - sf.col("refunded_amount")).cast(MONEY).alias("monetary"),
        )
        .withColumn("recency_days", sf.datediff(sf.lit(as_of), sf.to_date("last_order_at")))
        .withColumn("r", _quintile_score("recency_days", higher_is_better=False))
        .withColumn("f", _quintile_score("frequency"))
        .withColumn("m", _quintile_score("monetary"))
        .withColumn("fm", (sf.col("f") + sf.col("m")) / 2)
        .withColumn("segment", segment)
        .select(
            "user_id",
            "last_order_at",
            "recency_days",
            "frequency",
            "monetary",
            sf.col("r").alias("r_score"),
            sf.col("f").alias("f_score"),
            sf.col("m").alias("m_score"),
            "segment",
            sf.lit(as_of).alias("as_of"),
        )
    )


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
    """customer_features: one row per user signed up before `cutoff`, from facts dated
    strictly before it only.

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
        .groupBy("user_id", sf.col("properties.cart_id").alias("cart_id"))
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
        .select(sf.col("id").alias("user_id"), "signed_up_at")
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
