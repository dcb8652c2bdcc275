"""Layer 2: the order facts several marts build on. glue_jobs.build_marts computes each once
per run, from the prepared tables, and passes it to the marts that read it.

Revenue is what the customer paid (order total: after discount, with shipping and tax),
spread over the order's lines in proportion to their line totals and rounded to cents, the
rounding remainder going to the order's largest line, so that any grouping of lines adds up
to the sum of order totals to the cent. Refunds are spread the same way. Cancelled orders
are not sales.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as sf

from glue_jobs.transforms.marts.common import MONEY


def placed_orders(orders: DataFrame) -> DataFrame:
    """The orders that are sales: every status but cancelled."""
    return orders.filter(sf.col("status") != "cancelled")


def order_channels(placed: DataFrame, sessions: DataFrame) -> DataFrame:
    """(order_id, channel) of each placed order (from `placed_orders`) that has a session in
    the shop's sessions.

    The orders' keys are broadcast and the sessions, several times as many rows, stream past
    them: the session table is never shuffled or sorted. (A left join from the orders would
    shuffle and sort both sides, or broadcast the larger one.)
    """
    placed_sessions = placed.select("order_id", "session_id")
    return sessions.join(sf.broadcast(placed_sessions), "session_id").select("order_id", "channel")


def placed_order_lines(placed: DataFrame, order_items: DataFrame) -> DataFrame:
    """One row per line of a placed order (from `placed_orders`), with its share in cents of
    the order's revenue and refund; the shares of an order add up exactly to its total and
    refund. A zero subtotal (all free items) is shared equally between the lines."""
    amounts = placed.select("order_id", "placed_at", "subtotal", "total", "refunded_amount")
    largest_first = Window.partitionBy("order_id").orderBy(
        sf.col("line_total").desc(), sf.col("product_id")
    )
    # The whole order as a frame of the same ordered window: one sort serves every window.
    whole_order = largest_first.rowsBetween(Window.unboundedPreceding, Window.unboundedFollowing)
    lines = order_items.join(amounts, "order_id").withColumns(
        {
            "_lines": sf.count(sf.lit(1)).over(whole_order),
            "_largest": sf.row_number().over(largest_first) == 1,
        }
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
