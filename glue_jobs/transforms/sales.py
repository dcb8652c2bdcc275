"""Sales marts from the OLTP orders: daily sales by category and channel, and per-product
performance joined with the clickstream.

Revenue is what the customer paid (order total: after discount, with shipping and tax),
spread over the order's lines in proportion to their line totals and rounded to cents, the
rounding remainder going to the order's largest line, so that category revenue adds up to
the sum of order totals to the cent. Refunds are spread the same way and reported on the
order's day. Cancelled orders are not sales.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as sf

from glue_jobs.transforms.common import MONEY, placed_orders, ratio

UNKNOWN_CHANNEL = "unknown"


def order_channels(orders: DataFrame, sessions: DataFrame) -> DataFrame:
    """(order_id, channel) of each placed order that has an OLTP session.

    The orders' keys are broadcast and the sessions, several times as many rows, stream past
    them: the session table is never shuffled or sorted. (A left join from the orders would
    shuffle and sort both sides, or broadcast the larger one.)
    """
    placed_sessions = placed_orders(orders).select(sf.col("id").alias("order_id"), "session_id")
    return (
        sessions.select(sf.col("id").alias("session_id"), "channel")
        .join(sf.broadcast(placed_sessions), "session_id")
        .select("order_id", "channel")
    )


def placed_order_lines(orders: DataFrame, order_items: DataFrame) -> DataFrame:
    """One row per line of a non-cancelled order, with its share in cents of the order's
    revenue and refund; the shares of an order add up exactly to its total and refund.
    A zero subtotal (all free items) is shared equally between the lines."""
    placed = placed_orders(orders).select(
        sf.col("id").alias("order_id"), "placed_at", "subtotal", "total", "refunded_amount"
    )
    largest_first = Window.partitionBy("order_id").orderBy(
        sf.col("line_total").desc(), sf.col("product_id")
    )
    # The whole order as a frame of the same ordered window: one sort serves every window.
    whole_order = largest_first.rowsBetween(Window.unboundedPreceding, Window.unboundedFollowing)
    lines = (
        order_items.select("order_id", "product_id", "quantity", "line_total")
        .join(placed, "order_id")
        .withColumns(
            {
                "_lines": sf.count(sf.lit(1)).over(whole_order),
                "_largest": sf.row_number().over(largest_first) == 1,
            }
        )
    )
    shares = {"line_revenue": "total", "line_refund": "refunded_amount"}
    rounded = {
        share: sf.round(
            sf.when(
                sf.col("subtotal") > 0,
                sf.col(amount) * sf.col("line_total") / sf.col("subtotal"),
            ).otherwise(sf.col(amount) / sf.col("_lines")),
            2,
        ).cast(MONEY)
        for share, amount in shares.items()
    }
    with_remainder = {
        share: (
            sf.col(share)
            + sf.when(
                sf.col("_largest"), sf.col(amount) - sf.sum(share).over(whole_order)
            ).otherwise(0)
        ).cast(MONEY)
        for share, amount in shares.items()
    }
    return lines.withColumns(rounded).withColumns(with_remainder).drop("_lines", "_largest")


def sales_daily(
    orders: DataFrame,
    order_items: DataFrame,
    products: DataFrame,
    categories: DataFrame,
    sessions: DataFrame,
) -> DataFrame:
    """mart_sales_daily: one row per order day (UTC) x category x channel.

    The channel is that of the OLTP session the order was placed in ("unknown" without one).
    The lines are first summed per order, channel and category, so that an order is one row
    in each of its day x category x channel groups and is counted without a distinct count
    (whose plan triples the rows and adds two aggregations and a shuffle).
    """
    product_categories = products.select(sf.col("id").alias("product_id"), "category_id").join(
        categories.select(sf.col("id").alias("category_id"), sf.col("name").alias("category_name")),
        "category_id",
        "left",
    )
    # Every key but the category is one value per order; the lines come partitioned by
    # order_id (their allocation window) and both lookups are broadcast, so this grouping
    # needs no shuffle of its own.
    order_channel_category = (
        "order_id", "placed_at", "refunded_amount", "channel", "category_id", "category_name",
    )  # fmt: skip
    order_categories = (
        placed_order_lines(orders, order_items)
        .join(sf.broadcast(order_channels(orders, sessions)), "order_id", "left")
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
    sessionized_events: DataFrame,
    orders: DataFrame,
    order_items: DataFrame,
    products: DataFrame,
) -> DataFrame:
    """mart_product_performance: one row per product over the input period.

    Rates are per curated session: add_to_cart_rate = sessions adding it / sessions viewing
    it, conversion_rate = sessions buying it (order_completed items) / sessions viewing it.
    Revenue and refund rate come from the OLTP orders (refund rate: share of its orders
    that were refunded in part or whole).
    """
    events = sessionized_events.select(
        "event_type", "session_id", sf.col("properties.product_id").alias("product_id")
    )
    purchases = sessionized_events.filter(sf.col("event_type") == "order_completed").select(
        "session_id", sf.explode("properties.items.product_id").alias("product_id")
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
    sold = (
        placed_order_lines(orders, order_items)
        .groupBy("product_id")
        .agg(
            sf.count_distinct("order_id").alias("orders"),
            sf.sum("quantity").alias("units"),
            sf.sum("line_revenue").cast(MONEY).alias("revenue"),
            sf.count_distinct(refunded_order).alias("refunded_orders"),
        )
    )
    counts = ["views", "view_sessions", "add_to_cart_sessions", "purchase_sessions", "orders"]
    return (
        products.select(sf.col("id").alias("product_id"), "category_id")
        .join(clicks, "product_id", "left")
        .join(bought, "product_id", "left")
        .join(sold, "product_id", "left")
        .fillna(0, subset=[*counts, "units", "refunded_orders"])
        .withColumn("revenue", sf.coalesce("revenue", sf.lit(0).cast(MONEY)))
        .withColumn("add_to_cart_rate", ratio("add_to_cart_sessions", "view_sessions"))
        .withColumn("conversion_rate", ratio("purchase_sessions", "view_sessions"))
        .withColumn("refund_rate", ratio("refunded_orders", "orders"))
    )
