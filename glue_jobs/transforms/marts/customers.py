"""Customer marts from the placed orders: cohort retention and RFM segments. The rules are
written out in docs/marts.md."""

from __future__ import annotations

from datetime import date

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as sf

from glue_jobs.transforms.marts.common import MONEY, ratio

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


def cohort_retention(placed_orders: DataFrame) -> DataFrame:
    """mart_cohort_retention: acquisition week (Monday of the first order) x weeks since.

    A customer is active in a week when they placed a non-cancelled order in it. Every
    cohort gets a row for each week up to the last week with any order, zeros included.
    """
    weekly = placed_orders.select(
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


def rfm_segments(placed_orders: DataFrame, as_of: date) -> DataFrame:
    """mart_rfm_segments: one row per customer with a non-cancelled order before `as_of`.

    Recency is days from the last order's date to `as_of`; frequency the number of orders;
    monetary what they paid net of refunds.
    """
    segment = sf.lit(None).cast("string")
    for name, rule in reversed(RFM_SEGMENT_RULES):
        segment = sf.when(sf.expr(rule), name).otherwise(segment)
    return (
        placed_orders.filter(sf.col("placed_at") < sf.lit(as_of))
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
