"""Sales marts from the placed order lines: daily sales by category and channel, and
per-product performance joined with the clickstream.

Revenue and refunds are the lines' shares of what the customer paid and got back
(glue_jobs.transforms.marts.intermediate), so category revenue adds up to the sum of order
totals to the cent; refunds are reported on the order's day.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as sf

from glue_jobs.transforms.marts.common import MONEY, ratio

UNKNOWN_CHANNEL = "unknown"


def sales_daily(
    placed_order_lines: DataFrame,
    order_channels: DataFrame,
    products: DataFrame,
    categories: DataFrame,
) -> DataFrame:
    """mart_sales_daily: one row per order day (UTC) x category x channel.

    The channel is that of the OLTP session the order was placed in ("unknown" without one).
    The lines are first summed per order, channel and category, so that an order is one row
    in each of its day x category x channel groups and is counted without a distinct count
    (whose plan triples the rows and adds two aggregations and a shuffle).
    """
    product_categories = products.join(categories, "category_id", "left")
    # Every key but the category is one value per order; the lines come partitioned by
    # order_id (their allocation window) and both lookups are broadcast, so this grouping
    # needs no shuffle of its own.
    order_channel_category = (
        "order_id", "placed_at", "refunded_amount", "channel", "category_id", "category_name",
    )  # fmt: skip
    order_categories = (
        placed_order_lines.join(sf.broadcast(order_channels), "order_id", "left")
        .join(sf.broadcast(product_categories), "product_id", "left")
        .groupBy(*order_channel_category)
        .agg(
            sf.sum("quantity").alias("units"),
            sf.sum("line_revenue").alias("revenue"),
            sf.sum("line_refund").alias("refunds"),
        )
    )
    return (
        order_categories.groupBy(
            sf.to_date("placed_at").alias("order_date"),
            "category_id",
            "category_name",
            sf.coalesce("channel", sf.lit(UNKNOWN_CHANNEL)).alias("channel"),
        )
        .agg(
            sf.count(sf.lit(1)).alias("orders"),
            sf.sum("units").alias("units"),
            sf.sum("revenue").cast(MONEY).alias("revenue"),
            sf.count(sf.when(sf.col("refunded_amount") > 0, 1)).alias("refunded_orders"),
            sf.sum("refunds").cast(MONEY).alias("refunds"),
        )
        .withColumn("aov", sf.round(sf.col("revenue") / sf.col("orders"), 2).cast(MONEY))
    )


def product_performance(
    events: DataFrame, placed_order_lines: DataFrame, products: DataFrame
) -> DataFrame:
    """mart_product_performance: one row per product over the input period.

    Rates are per curated session: add_to_cart_rate = sessions adding it / sessions viewing
    it, conversion_rate = sessions buying it (order_completed items) / sessions viewing it.
    Revenue and refund rate come from the OLTP orders (refund rate: share of its orders
    that were refunded in part or whole).
    """
    purchases = events.filter(sf.col("event_type") == "order_completed").select(
        "session_id", sf.explode("item_product_ids").alias("product_id")
    )
    clicks = (
        events.filter(sf.col("event_type").isin("product_viewed", "product_added_to_cart"))
        .groupBy("product_id")
        .agg(
            sf.count(sf.when(sf.col("event_type") == "product_viewed", 1)).alias("views"),
            sf.count_distinct(
                sf.when(sf.col("event_type") == "product_viewed", sf.col("session_id"))
            ).alias("view_sessions"),
            sf.count_distinct(
                sf.when(sf.col("event_type") == "product_added_to_cart", sf.col("session_id"))
            ).alias("add_to_cart_sessions"),
        )
    )
    bought = purchases.groupBy("product_id").agg(
        sf.count_distinct("session_id").alias("purchase_sessions")
    )
    refunded_order = sf.when(sf.col("refunded_amount") > 0, sf.col("order_id"))
    sold = placed_order_lines.groupBy("product_id").agg(
        sf.count_distinct("order_id").alias("orders"),
        sf.sum("quantity").alias("units"),
        sf.sum("line_revenue").cast(MONEY).alias("revenue"),
        sf.count_distinct(refunded_order).alias("refunded_orders"),
    )
    counts = ["views", "view_sessions", "add_to_cart_sessions", "purchase_sessions", "orders"]
    return (
        products.select("product_id", "category_id")
        .join(clicks, "product_id", "left")
        .join(bought, "product_id", "left")
        .join(sold, "product_id", "left")
        .fillna(0, subset=[*counts, "units", "refunded_orders"])
        .withColumn("revenue", sf.coalesce("revenue", sf.lit(0).cast(MONEY)))
        .withColumn("add_to_cart_rate", ratio("add_to_cart_sessions", "view_sessions"))
        .withColumn("conversion_rate", ratio("purchase_sessions", "view_sessions"))
        .withColumn("refund_rate", ratio("refunded_orders", "orders"))
    )
