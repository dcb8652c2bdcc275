"""How much a shopper's actions say about interest in a product, and whose live session an
event belongs to.

Three runtimes must agree on these: the stream processor records live sessions and product
counters, the recommendations job ranks popular products from the lake, and the
recommendations API ranks trending products from the live counters. A change here changes
all three.
"""

from __future__ import annotations

# A cart add says more than a view, a purchase more than a cart add.
VIEW_WEIGHT = 1.0
CART_ADD_WEIGHT = 3.0
PURCHASE_WEIGHT = 10.0


def visitor_key(user_id: int | None, anonymous_id: str | None) -> str:
    """The key of realtime.visitor_recent_products: 'u:<user_id>' for a signed-in visitor,
    else 'a:<anonymous_id>' for the device."""
    if user_id is not None:
        return f"u:{user_id}"
    if anonymous_id is None:
        raise ValueError("a visitor needs a user_id or an anonymous_id")
    return f"a:{anonymous_id}"


def counters_trend_sql(alias: str) -> str:
    """SQL for a product's live trend score from realtime.product_counters (aliased `alias`):
    its views, cart adds and units sold, weighted as above."""
    return (
        f"({alias}.views * {VIEW_WEIGHT:g} + {alias}.cart_adds * {CART_ADD_WEIGHT:g}"
        f" + {alias}.units_sold * {PURCHASE_WEIGHT:g})"
    )
