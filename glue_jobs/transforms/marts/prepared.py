"""Layer 1: the source tables as the marts read them (dbt calls this layer staging; the name
here is `prepared` because glue_jobs/staging.py is the job step that stages writes).

Each function takes one table as the lake holds it: an OLTP table's current state
(glue_jobs.lake.read_oltp_table picks the latest version of each row) or the curated
events. It keeps the columns the marts read, under names that say what they hold: a table's
`id` becomes `<entity>_id`, so that joins match on equal names, and the event properties the
marts use become columns. Nothing is cast: amounts keep the source's numeric(12,2), so no
share or sum downstream rounds differently.

The curated sessions need no preparing: curate_events already made them a model of the
events, and the marts read them as they are.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as sf


def users(oltp_users: DataFrame) -> DataFrame:
    return oltp_users.select(sf.col("id").alias("user_id"), "signed_up_at")


def orders(oltp_orders: DataFrame) -> DataFrame:
    """Every order, whatever its status (the intermediate layer picks the sales)."""
    return oltp_orders.select(
        sf.col("id").alias("order_id"), "user_id", "session_id", "status",
        "subtotal", "total", "refunded_amount", "placed_at", "refunded_at",
    )  # fmt: skip


def order_items(oltp_order_items: DataFrame) -> DataFrame:
    return oltp_order_items.select("order_id", "product_id", "quantity", "line_total")


def products(oltp_products: DataFrame) -> DataFrame:
    return oltp_products.select(sf.col("id").alias("product_id"), "category_id")


def product_attributes(oltp_products: DataFrame) -> DataFrame:
    """What the catalog says of each product (not its cost)."""
    return oltp_products.select(
        sf.col("id").alias("product_id"), "sku", sf.col("name").alias("product_name"), "brand",
        "category_id", "price", "status",
    )  # fmt: skip


def categories(oltp_categories: DataFrame) -> DataFrame:
    return oltp_categories.select(
        sf.col("id").alias("category_id"), sf.col("name").alias("category_name")
    )


def sessions(oltp_sessions: DataFrame) -> DataFrame:
    """The shop's own sessions (not the curated clickstream sessions): the channel each
    order was placed through."""
    return oltp_sessions.select(sf.col("id").alias("session_id"), "channel")


def inventory(oltp_inventory: DataFrame) -> DataFrame:
    """Stock per product; the shop's reorder point is renamed, as the inventory mart
    computes a reorder point of its own."""
    return oltp_inventory.select(
        "product_id",
        "on_hand",
        "lead_time_days",
        sf.col("reorder_point").alias("configured_reorder_point"),
    )


def inventory_movements(oltp_inventory_movements: DataFrame) -> DataFrame:
    return oltp_inventory_movements.select("product_id", "quantity", "reason", "occurred_at")


def support_tickets(oltp_support_tickets: DataFrame) -> DataFrame:
    return oltp_support_tickets.select("user_id", "opened_at")


def events(curated_events: DataFrame) -> DataFrame:
    """The curated events with the properties the marts read as columns: the product viewed
    or added to the cart, the cart, and the product ids of an order_completed's items."""
    return curated_events.select(
        "event_type", "occurred_at", "user_id", "session_id",
        sf.col("properties.product_id").alias("product_id"),
        sf.col("properties.cart_id").alias("cart_id"),
        sf.col("properties.items.product_id").alias("item_product_ids"),
    )  # fmt: skip
