"""mart_funnel_daily: where sessions drop out between product view and purchase."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as sf

from glue_jobs.transforms.marts.common import ratio

# Steps in order, with the curated session flag that marks reaching each one.
FUNNEL_STEPS = (
    ("product_view", "reached_product_view"),
    ("add_to_cart", "reached_add_to_cart"),
    ("checkout", "reached_checkout"),
    ("purchase", "converted"),
)


def funnel_daily(sessions: DataFrame) -> DataFrame:
    """One row per session day (UTC, by start) x channel.

    The funnel is closed: a session counts at a step only if it also reached every earlier
    step (in any order within the session), so counts never grow down the funnel and each
    drop-off rate (1 - step / previous step, the first against all sessions) lies in [0, 1].
    `orders` counts every order_completed event, whatever the session reached before.
    """
    step_columns = []
    reached_so_far = sf.lit(True)
    for step, flag in FUNNEL_STEPS:
        reached_so_far = reached_so_far & sf.col(flag)
        step_columns.append(sf.count(sf.when(reached_so_far, 1)).alias(f"{step}_sessions"))
    daily = sessions.groupBy("session_date", "channel").agg(
        sf.count(sf.lit(1)).alias("sessions"),
        *step_columns,
        sf.sum("order_count").alias("orders"),
    )
    previous = "sessions"
    for step, _ in FUNNEL_STEPS:
        current = f"{step}_sessions"
        daily = daily.withColumn(f"dropoff_to_{step}", 1 - ratio(current, previous))
        previous = current
    return daily
