"""Sales marts on six hand-written orders; the arithmetic is in the comments."""

from __future__ import annotations

from decimal import Decimal

import pytest
from spark_fixtures import day, table

from glue_jobs.transforms.marts import prepared
from glue_jobs.transforms.marts.intermediate import (
    order_channels,
    placed_order_lines,
    placed_orders,
)
from glue_jobs.transforms.marts.sales import product_performance, sales_daily

ORDERS_SCHEMA = (
    "id bigint, user_id bigint, session_id string, status string, subtotal decimal(12,2), "
    "total decimal(12,2), refunded_amount decimal(12,2), placed_at timestamp, "
    "refunded_at timestamp"
)
ORDERS = [
    # O1: subtotal 50 - discount 5 + shipping 5 + tax 4 = 54; 10 refunded.
    (1, 1, "sess-web-1", "partially_refunded", 50, 54, 10, "2026-10-01 09:00"),
    (2, 2, "sess-web-2", "refunded", 25, 27.5, 27.5, "2026-10-01 10:00"),
    (3, 3, "sess-app-1", "delivered", 10, 10, 0, "2026-10-01 23:59"),
    (4, 1, "sess-web-1", "cancelled", 10, 10, 0, "2026-10-01 11:00"),  # not a sale
    (5, 2, None, "placed", 30, 30, 0, "2026-10-02 08:00"),
    (6, 3, None, "shipped", 0, 4, 0, "2026-10-02 09:00"),  # free items, 4.00 shipping
    (7, 1, None, "delivered", 9, 10, 0, "2026-10-02 10:00"),  # 3 lines of 3.00, 10.00 paid
]
ORDER_ITEMS = [
    (1, 1, 2, 20), (1, 3, 1, 30),
    (2, 2, 1, 25),
    (3, 1, 1, 10),
    (4, 1, 1, 10),
    (5, 3, 1, 30),
    (6, 3, 1, 0), (6, 2, 1, 0),
    (7, 3, 1, 3), (7, 2, 1, 3), (7, 1, 1, 3),
]  # fmt: skip


def order_lines(shop):
    """The placed order lines of the shop, through the prepared and intermediate layers."""
    return placed_order_lines(
        placed_orders(prepared.orders(shop["orders"])), prepared.order_items(shop["order_items"])
    )


def daily_sales(shop, sessions):
    """mart_sales_daily over the shop, with `sessions` as the shop's session table."""
    placed = placed_orders(prepared.orders(shop["orders"]))
    return sales_daily(
        order_lines(shop),
        order_channels(placed, prepared.sessions(sessions)),
        prepared.products(shop["products"]),
        prepared.categories(shop["categories"]),
    )


@pytest.fixture
def shop(spark):
    return {
        "orders": table(spark, ORDERS_SCHEMA, [(*order, None) for order in ORDERS]),
        "order_items": table(
            spark, "order_id bigint, product_id bigint, quantity int, line_total decimal(12,2)",
            ORDER_ITEMS,
        ),
        "products": table(
            spark, "id bigint, category_id bigint", [(1, 10), (2, 10), (3, 20), (4, 20)]
        ),
        "categories": table(spark, "id bigint, name string", [(10, "Shoes"), (20, "Books")]),
        "sessions": table(
            spark, "id string, channel string",
            [("sess-web-1", "web"), ("sess-web-2", "web"), ("sess-app-1", "mobile_app")],
        ),
    }  # fmt: skip


def test_sales_daily_allocates_totals_to_categories(shop) -> None:
    rows = daily_sales(shop, shop["sessions"]).collect()
    got = {
        (r.order_date, r.category_name, r.channel): (
            r.orders, r.units, r.revenue, r.aov, r.refunded_orders, r.refunds
        )
        for r in rows
    }  # fmt: skip
    D = Decimal  # noqa: N806
    assert got == {
        # O1 line p1: 54 * 20/50 = 21.60 (refund 10 * 20/50 = 4.00); O2: 27.50, all refunded.
        # revenue 21.60 + 27.50 = 49.10; aov 49.10 / 2 = 24.55; refunds 4.00 + 27.50 = 31.50
        (day("2026-10-01"), "Shoes", "web"): (2, 3, D("49.10"), D("24.55"), 2, D("31.50")),
        # O1 line p3: 54 * 30/50 = 32.40, refund 10 * 30/50 = 6.00
        (day("2026-10-01"), "Books", "web"): (1, 1, D("32.40"), D("32.40"), 1, D("6.00")),
        (day("2026-10-01"), "Shoes", "mobile_app"): (1, 1, D("10.00"), D("10.00"), 0, D("0.00")),
        # O7: 10.00 over three equal lines = 3.33 each, 9.99 in all; the 0.01 left goes to the
        # first of the (equally) largest lines by product id, p1: 3.34.
        # Books: O5 30.00 + O6 4.00 / 2 free lines = 2.00 + O7 p3 3.33 = 35.33; / 3 = 11.78
        (day("2026-10-02"), "Books", "unknown"): (3, 3, D("35.33"), D("11.78"), 0, D("0.00")),
        # Shoes: O6 p2 2.00 + O7 p1 3.34 + O7 p2 3.33 = 8.67 over 2 orders = 4.335 -> 4.34
        (day("2026-10-02"), "Shoes", "unknown"): (2, 3, D("8.67"), D("4.34"), 0, D("0.00")),
    }

    # Cross-check: revenue sums to the non-cancelled totals 54 + 27.5 + 10 + 30 + 4 + 10.
    assert sum(v[2] for v in got.values()) == D("135.50")


def test_sales_daily_channel_is_unknown_when_the_session_was_not_extracted(shop) -> None:
    # O3's session sess-app-1 is missing from the sessions table: it is still a sale of
    # 10.00, now on the "unknown" channel; the web orders keep their channel.
    sessions = shop["sessions"].filter("id <> 'sess-app-1'")
    rows = daily_sales(shop, sessions).filter("order_date = '2026-10-01'")
    got = {(r.category_name, r.channel): (r.orders, r.revenue) for r in rows.collect()}
    assert got == {
        ("Shoes", "web"): (2, Decimal("49.10")),
        ("Books", "web"): (1, Decimal("32.40")),
        ("Shoes", "unknown"): (1, Decimal("10.00")),
    }


def _click(
    event_id: str, time: str, session_id: str, event_type: str, **properties: object
) -> dict:
    """A curated event on 2026-10-01 at `time` (HH:MM)."""
    return {"event_id": event_id, "occurred_at": f"2026-10-01 {time}", "session_id": session_id,
            "event_type": event_type, "properties": properties}  # fmt: skip


CLICKS = [
    _click("v1", "09:00", "S1", "product_viewed", product_id=1),
    _click("v2", "09:01", "S1", "product_viewed", product_id=1),
    _click("c1", "09:02", "S1", "product_added_to_cart", product_id=1),
    _click("o1", "09:05", "S1", "order_completed", order_id=1, items=[
        {"product_id": 1, "quantity": 2, "unit_price": Decimal(10), "line_total": Decimal(20)},
        {"product_id": 3, "quantity": 1, "unit_price": Decimal(30), "line_total": Decimal(30)}]),
    _click("v3", "10:00", "S2", "product_viewed", product_id=1),
    _click("v4", "10:01", "S2", "product_viewed", product_id=2),
    _click("c2", "10:02", "S2", "product_added_to_cart", product_id=2),
    _click("v5", "11:00", "S3", "product_viewed", product_id=1),
]  # fmt: skip


def test_product_performance_rates(shop, make_events) -> None:
    rows = product_performance(
        prepared.events(make_events(CLICKS)), order_lines(shop), prepared.products(shop["products"])
    ).collect()
    got = {
        r.product_id: (
            r.views, r.view_sessions, r.add_to_cart_sessions, r.purchase_sessions,
            r.add_to_cart_rate, r.conversion_rate, r.orders, r.units, r.revenue, r.refund_rate,
        )
        for r in rows
    }  # fmt: skip
    third = pytest.approx(1 / 3)
    assert got == {
        # p1: views S1 x2, S2, S3 = 4 in 3 sessions; carted in S1 (1/3), bought in S1 (1/3);
        # O1 (2 units, 21.60, refunded in part) + O3 (10.00) + O7 (3.34) = 34.94; refunds 1/3
        1: (4, 3, 1, 1, third, third, 3, 4, Decimal("34.94"), third),
        # p2: one view, carted in the same session (1/1), not bought (0/1);
        # O2 27.50 (refunded) + O6 2.00 (half of its 4.00) + O7 3.33 = 32.83; refunds 1/3
        2: (1, 1, 1, 0, 1.0, 0.0, 3, 3, Decimal("32.83"), third),
        # p3: bought in S1 without a view: rates undefined;
        # O1 32.40 (refunded in part) + O5 30.00 + O6 2.00 + O7 3.33 = 67.73; refunds 1/4
        3: (0, 0, 0, 1, None, None, 4, 4, Decimal("67.73"), 0.25),
        # p4: nothing at all
        4: (0, 0, 0, 0, None, None, 0, 0, Decimal("0.00"), None),
    }
