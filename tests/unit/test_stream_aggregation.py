"""Batch aggregation of the stream processor, on a small batch worked out by hand."""

from __future__ import annotations

from datetime import datetime

from stream_events import Visitor, make_event

from lambdas.stream_processor.aggregation import (
    CartActivity,
    CartLineChange,
    MinuteCounts,
    ProductCounts,
    aggregate_events,
    partition_watermarks,
    to_cents,
)
from lambdas.stream_processor.records import SourceRecord

S1 = Visitor("11111111-1111-4111-8111-111111111111", "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa", 5)
S2 = Visitor("22222222-2222-4222-8222-222222222222", "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb", None)
CART = "cccccccc-cccc-4ccc-8ccc-cccccccccccc"


def t(clock: str) -> datetime:
    """'12:01:40.5' on the test day, UTC."""
    return datetime.fromisoformat(f"2026-10-01T{clock}+00:00")


def viewed(visitor: Visitor, clock: str, product_id: int) -> dict:
    props = {"product_id": product_id, "category_id": 3, "price": 20.0, "currency": "USD"}
    return make_event("product_viewed", t(clock), visitor, props)


BATCH = [
    viewed(S1, "12:00:05", 10),
    make_event(
        "product_added_to_cart",
        t("12:00:30"),
        S1,
        {"cart_id": CART, "product_id": 10, "quantity": 2, "unit_price": 20.0, "currency": "USD"},
    ),
    viewed(S2, "12:00:50", 11),
    viewed(S2, "12:01:10", 10),
    make_event(
        "product_removed_from_cart",
        t("12:01:15"),
        S1,
        {"cart_id": CART, "product_id": 10, "quantity": 1},
    ),
    make_event(
        "checkout_started",
        t("12:01:20"),
        S1,
        {"cart_id": CART, "item_count": 1, "cart_value": 20.0, "currency": "USD"},
    ),
    make_event(
        "order_completed",
        t("12:01:40"),
        S1,
        {
            "order_id": 900,
            "cart_id": CART,
            "items": [{"product_id": 10, "quantity": 1, "unit_price": 20.0, "line_total": 20.0}],
            "subtotal": 20.0,
            "discount": 0,
            "shipping": 4.99,
            "tax": 1.6,
            "total": 26.59,
            "currency": "USD",
            "payment_method": "card",
        },
    ),
    make_event("page_viewed", t("12:01:59.999"), S2, {"page_type": "home", "path": "/"}),
]


def test_minute_metrics_by_hand() -> None:
    batch = aggregate_events(BATCH)

    # 12:00 holds events 1-3 (two views, one add); 12:01 holds 4-8 (a view, a checkout and
    # an order of 20.00 + 4.99 shipping + 1.60 tax).
    assert batch.minutes == {
        t("12:00:00"): MinuteCounts(events=3, product_views=2, add_to_carts=1),
        t("12:01:00"): MinuteCounts(
            events=5, product_views=1, checkouts=1, orders=1, revenue_cents=2659
        ),
    }
    assert batch.minute_sessions == {
        (t("12:00:00"), S1.session_id),
        (t("12:00:00"), S2.session_id),
        (t("12:01:00"), S1.session_id),
        (t("12:01:00"), S2.session_id),
    }


def test_product_counters_by_hand() -> None:
    batch = aggregate_events(BATCH)

    assert batch.products == {
        10: ProductCounts(
            last_event_at=t("12:01:40"),
            views=2,
            cart_adds=1,
            units_added=2,
            units_removed=1,
            units_sold=1,
            revenue_cents=2000,
        ),
        11: ProductCounts(last_event_at=t("12:00:50"), views=1),
    }


def test_cart_activity_and_net_lines_by_hand() -> None:
    batch = aggregate_events(BATCH)

    assert batch.carts == {
        CART: CartActivity(
            session_id=S1.session_id,
            opened_at=t("12:00:30"),
            last_activity_at=t("12:01:40"),
            user_id=5,
            checkout_started_at=t("12:01:20"),
            ordered_at=t("12:01:40"),
            order_id=900,
        )
    }
    # 2 added, 1 removed; the price is the add's.
    assert batch.cart_lines == {(CART, 10): CartLineChange(quantity=1, unit_price_cents=2000)}


def test_visitor_products_keep_the_latest_view_and_cart_add_per_visitor() -> None:
    batch = aggregate_events([*BATCH, viewed(S1, "12:00:45", 10), viewed(S1, "12:00:01", 10)])

    # S1 is signed in (user 5): keyed by user; S2 is anonymous: keyed by device. S1 viewed 10
    # at 12:00:05, 12:00:45 and 12:00:01 (latest 12:00:45) and carted it at 12:00:30; the
    # remove, checkout and order add no row.
    assert batch.visitor_products == {
        ("u:5", 10, "view"): t("12:00:45"),
        ("u:5", 10, "cart"): t("12:00:30"),
        (f"a:{S2.anonymous_id}", 11, "view"): t("12:00:50"),
        (f"a:{S2.anonymous_id}", 10, "view"): t("12:01:10"),
    }


def test_batch_order_does_not_change_the_aggregates() -> None:
    assert aggregate_events(reversed(BATCH)) == aggregate_events(BATCH)


def test_money_is_summed_in_exact_cents() -> None:
    # 0.1 + 0.2 != 0.3 in binary floats; in cents it is 30.
    assert to_cents(0.1) + to_cents(0.2) == 30
    assert to_cents(26.59) == 2659


def test_partition_watermarks_take_the_latest_time_per_partition_up_to_the_cap() -> None:
    def record(partition: int) -> SourceRecord:
        return SourceRecord("events", partition, 0, 0, None, b"")

    pairs = [
        (record(0), BATCH[0]),
        (record(0), BATCH[3]),
        (record(1), BATCH[1]),
        (record(2), BATCH[7]),
    ]

    assert partition_watermarks(pairs, not_after=t("12:01:30")) == {
        ("events", 0): t("12:01:10"),
        ("events", 1): t("12:00:30"),
        ("events", 2): t("12:01:30"),  # 12:01:59.999 capped
    }
