"""mart_inventory_health: stock on hand against recent demand, and when to reorder.

Demand is units ordered (inventory movements with reason 'order'), per UTC day over the 28
days before the as-of date, days without orders counting as zero. Safety stock covers demand
variability over the supplier lead time at a service level (z = 1.645 for 95%):

    safety_stock  = ceil(z * stddev(daily demand) * sqrt(lead_time_days))
    reorder_point = ceil(avg daily demand * lead_time_days + z * stddev * sqrt(lead_time_days))

Stock-out risk: out_of_stock at 0 on hand; high when on hand is below the demand expected
during one lead time (it runs out before a new order can arrive); medium below the reorder
point; low otherwise.
"""

from __future__ import annotations

from datetime import date, timedelta

from pyspark.sql import DataFrame
from pyspark.sql import functions as sf

DEMAND_WINDOW_DAYS = 28
SHORT_WINDOW_DAYS = 7
SERVICE_LEVEL_Z = 1.645


def inventory_health(
    inventory: DataFrame,
    inventory_movements: DataFrame,
    as_of: date,
    service_level_z: float = SERVICE_LEVEL_Z,
) -> DataFrame:
    """One row per product in the prepared `inventory`, as of the start of `as_of` (UTC)."""
    first_day = as_of - timedelta(days=DEMAND_WINDOW_DAYS)
    short_first_day = as_of - timedelta(days=SHORT_WINDOW_DAYS)
    daily_demand = (
        inventory_movements.filter(sf.col("reason") == "order")
        .withColumn("demand_date", sf.to_date("occurred_at"))
        .filter(
            (sf.col("demand_date") >= sf.lit(first_day)) & (sf.col("demand_date") < sf.lit(as_of))
        )
        .groupBy("product_id", "demand_date")
        .agg((-sf.sum("quantity")).alias("units"))
    )
    days = sf.sequence(sf.lit(first_day), sf.lit(as_of - timedelta(days=1)))
    every_day = inventory.select("product_id", sf.explode(days).alias("demand_date"))
    demand = (
        every_day.join(daily_demand, ["product_id", "demand_date"], "left")
        .fillna(0, subset=["units"])
        .groupBy("product_id")
        .agg(
            sf.sum("units").alias("demand_28d"),
            sf.sum(
                sf.when(sf.col("demand_date") >= sf.lit(short_first_day), sf.col("units"))
            ).alias("demand_7d"),
            sf.avg("units").alias("avg_daily_demand"),
            sf.stddev_samp("units").alias("demand_stddev"),
        )
    )
    lead_time_demand = sf.col("avg_daily_demand") * sf.col("lead_time_days")
    safety = service_level_z * sf.col("demand_stddev") * sf.sqrt(sf.col("lead_time_days"))
    reorder_point = sf.ceil(lead_time_demand + safety).cast("int")
    return (
        inventory.select("product_id", "on_hand", "lead_time_days", "configured_reorder_point")
        .join(demand, "product_id")
        .withColumn("safety_stock", sf.ceil(safety).cast("int"))
        .withColumn("reorder_point", reorder_point)
        .withColumn(
            "days_of_cover",
            sf.when(sf.col("avg_daily_demand") > 0, sf.col("on_hand") / sf.col("avg_daily_demand")),
        )
        .withColumn(
            "stockout_risk",
            sf.when(sf.col("on_hand") == 0, "out_of_stock")
            .when(sf.col("on_hand") < lead_time_demand, "high")
            .when(sf.col("on_hand") < sf.col("reorder_point"), "medium")
            .otherwise("low"),
        )
        .withColumn("as_of", sf.lit(as_of))
    )
