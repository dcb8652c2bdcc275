"""The stream processor's per-visitor live session (realtime.visitor_recent_products) on a
real PostgreSQL: latest time per product and action, bounded per visitor, the same whatever
the order and repetition of batches. Expected rows are worked out from the events by hand."""

from __future__ import annotations

from datetime import datetime, timedelta

import psycopg
import pytest
from stream_events import START, Visitor, encode, make_event

from lambdas.stream_processor.processor import ProcessorSettings, process_records
from lambdas.stream_processor.records import SourceRecord
from lambdas.stream_processor.store import RECENT_PRODUCTS_PER_VISITOR

pytestmark = pytest.mark.integration

SETTINGS = ProcessorSettings(cart_abandonment_minutes=30, dedupe_window_hours=72)
SIGNED_IN = Visitor(
    "11111111-1111-4111-8111-111111111111", "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa", 42
)
ANONYMOUS = Visitor(
    "22222222-2222-4222-8222-222222222222", "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb", None
)
CART = "cccccccc-cccc-4ccc-8ccc-cccccccccccc"


def viewed(visitor: Visitor, seconds: int, product_id: int) -> dict:
    props = {"product_id": product_id, "category_id": 3, "price": 9.5, "currency": "USD"}
    return make_event("product_viewed", START + timedelta(seconds=seconds), visitor, props)


def carted(visitor: Visitor, seconds: int, product_id: int) -> dict:
    props = {
        "cart_id": CART,
        "product_id": product_id,
        "quantity": 1,
        "unit_price": 9.5,
        "currency": "USD",
    }
    return make_event("product_added_to_cart", START + timedelta(seconds=seconds), visitor, props)


def records(events: list[dict], first_offset: int = 0) -> list[SourceRecord]:
    return [
        SourceRecord("ecommerce.events.v1", 0, first_offset + i, 0, None, encode(event))
        for i, event in enumerate(events)
    ]


def stored(conn: psycopg.Connection) -> dict[tuple[str, int, str], datetime]:
    rows = conn.execute(
        "SELECT visitor_key, product_id, action, occurred_at FROM realtime.visitor_recent_products"
    ).fetchall()
    return {(key, product, action): at for key, product, action, at in rows}


def at(seconds: int) -> datetime:
    return START + timedelta(seconds=seconds)


def test_latest_view_and_cart_per_product_keyed_by_user_or_device(realtime_conn) -> None:
    events = [
        viewed(SIGNED_IN, 10, 501),
        viewed(SIGNED_IN, 70, 501),
        carted(SIGNED_IN, 40, 501),
        viewed(SIGNED_IN, 25, 502),
        viewed(ANONYMOUS, 33, 501),
    ]

    process_records(realtime_conn, records(events), SETTINGS)

    assert stored(realtime_conn) == {
        ("u:42", 501, "view"): at(70),
        ("u:42", 501, "cart"): at(40),
        ("u:42", 502, "view"): at(25),
        (f"a:{ANONYMOUS.anonymous_id}", 501, "view"): at(33),
    }


def test_each_visitor_keeps_only_its_newest_rows(realtime_conn) -> None:
    # 27 products viewed by the signed-in visitor, product 600 + i at second 7 * i (newest:
    # the highest i); the anonymous visitor's 3 views are not pruned by the other's volume.
    views = [viewed(SIGNED_IN, 7 * i, 600 + i) for i in range(27)]
    anonymous = [viewed(ANONYMOUS, 5 * i, 700 + i) for i in range(3)]
    # Two batches: the older half after the newer one, so pruning must hold across batches.
    process_records(realtime_conn, records(views[14:] + anonymous), SETTINGS)
    process_records(realtime_conn, records(views[:14], first_offset=100), SETTINGS)

    rows = stored(realtime_conn)
    kept = sorted(product for key, product, _ in rows if key == "u:42")
    assert RECENT_PRODUCTS_PER_VISITOR == 20
    assert kept == list(range(607, 627))  # the 20 newest of 600..626
    assert sorted(product for key, product, _ in rows if key.startswith("a:")) == [700, 701, 702]


def test_batch_order_and_redelivery_give_the_same_rows(migrated_database: str) -> None:
    events = [viewed(SIGNED_IN, 3 * i, 800 + i % 23) for i in range(31)]
    events += [carted(SIGNED_IN, 100 + i, 800 + i) for i in range(4)]
    first, second = records(events[:17]), records(events[17:], first_offset=17)

    with psycopg.connect(migrated_database, autocommit=True) as conn:
        process_records(conn, first, SETTINGS)
        process_records(conn, second, SETTINGS)
        in_order = stored(conn)
        process_records(conn, second, SETTINGS)  # redelivered: claimed already, adds nothing
        assert stored(conn) == in_order
        conn.execute("TRUNCATE realtime.visitor_recent_products, realtime.processed_events")
        process_records(conn, second, SETTINGS)
        process_records(conn, first, SETTINGS)
        reversed_order = stored(conn)

    assert reversed_order == in_order
    # View i is of product 800 + i % 23 at second 3i: products 800..807 are viewed again at
    # i = 23..30 (latest 69..90 s), 808..822 once (24..66 s). With the 4 cart adds (100..103 s)
    # that is 27 rows; the 20 newest are the cart rows, the views of 800..807 and the 8 latest
    # of the rest (815..822, 45..66 s).
    assert len(in_order) == 20
    assert {key for key in in_order if key[2] == "cart"} == {
        ("u:42", 800 + i, "cart") for i in range(4)
    }
    assert sorted(p for _, p, action in in_order if action == "view") == [
        *range(800, 808),
        *range(815, 823),
    ]
