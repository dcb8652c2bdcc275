"""Cart abandonment alerts on a real PostgreSQL, on a timeline worked out by hand (N = 30 min)."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from stream_events import Visitor, encode, make_event

from lambdas.stream_processor.processor import ProcessorSettings, process_records
from lambdas.stream_processor.records import SourceRecord
from lambdas.stream_processor.store import IDLE_PARTITION_SECONDS

pytestmark = pytest.mark.integration

SETTINGS = ProcessorSettings(cart_abandonment_minutes=30, dedupe_window_hours=72)
DAY = datetime(2026, 10, 1, tzinfo=UTC)
_offsets = itertools.count()


def at(clock: str) -> datetime:
    hour, minute = map(int, clock.split(":"))
    return DAY.replace(hour=hour, minute=minute)


class Shop:
    """Events of three carts; each call builds one event."""

    def __init__(self) -> None:
        self.visitor = Visitor(str(uuid.uuid4()), str(uuid.uuid4()), 42)
        self.carts = {name: str(uuid.uuid4()) for name in "ABC"}

    def add(self, cart: str, when: datetime, quantity: int, price: float) -> dict[str, Any]:
        return make_event(
            "product_added_to_cart",
            when,
            self.visitor,
            {
                "cart_id": self.carts[cart],
                "product_id": 7,
                "quantity": quantity,
                "unit_price": price,
                "currency": "USD",
            },
        )

    def checkout(self, cart: str, when: datetime) -> dict[str, Any]:
        return make_event(
            "checkout_started",
            when,
            self.visitor,
            {"cart_id": self.carts[cart], "item_count": 1, "cart_value": 10.0, "currency": "USD"},
        )

    def browse(self, when: datetime) -> dict[str, Any]:
        return make_event("page_viewed", when, self.visitor, {"page_type": "home", "path": "/"})


def batch(*events: dict[str, Any], partition: int = 0) -> list[SourceRecord]:
    return [SourceRecord("events", partition, next(_offsets), 0, b"k", encode(e)) for e in events]


def deliver(conn: psycopg.Connection, *events: dict[str, Any], partition: int = 0) -> int:
    return process_records(conn, batch(*events, partition=partition), SETTINGS).abandoned_carts


def alerts(conn: psycopg.Connection, shop: Shop) -> set[tuple]:
    names = {cart_id: name for name, cart_id in shop.carts.items()}
    rows = conn.execute(
        "SELECT cart_id::text, last_activity_at, abandoned_at, units, cart_value"
        " FROM realtime.cart_abandonment_alerts"
    ).fetchall()
    return {(names[cart_id], *rest) for cart_id, *rest in rows}


def statuses(conn: psycopg.Connection, shop: Shop) -> dict[str, str]:
    names = {cart_id: name for name, cart_id in shop.carts.items()}
    rows = conn.execute("SELECT cart_id::text, status FROM realtime.carts").fetchall()
    return {names[cart_id]: status for cart_id, status in rows}


def test_idle_carts_without_checkout_raise_one_alert_per_idle_spell(realtime_conn) -> None:
    shop = Shop()
    # 12:20 is the latest time seen: A has been idle 20 minutes, not 30.
    assert (
        deliver(
            realtime_conn,
            shop.add("A", at("12:00"), 2, 10.0),
            shop.add("B", at("12:00"), 1, 10.0),
            shop.checkout("B", at("12:10")),
            shop.add("C", at("12:20"), 1, 4.5),
        )
        == 0
    )
    # 12:45: A idle 45 min -> abandoned at 12:30. B checked out; C idle only 25 min.
    assert deliver(realtime_conn, shop.browse(at("12:45"))) == 1
    assert statuses(realtime_conn, shop) == {"A": "abandoned", "B": "checking_out", "C": "open"}
    # A comes back at 12:50 (revived); at 12:55 C has been idle 35 min -> abandoned at 12:50.
    assert (
        deliver(realtime_conn, shop.add("A", at("12:50"), 1, 10.0), shop.browse(at("12:55"))) == 1
    )
    assert statuses(realtime_conn, shop) == {"A": "open", "B": "checking_out", "C": "abandoned"}
    # 13:25: A idle 35 min since 12:50 -> its second alert, now with 3 units.
    assert deliver(realtime_conn, shop.browse(at("13:25"))) == 1

    assert alerts(realtime_conn, shop) == {
        ("A", at("12:00"), at("12:30"), 2, Decimal("20.00")),
        ("C", at("12:20"), at("12:50"), 1, Decimal("4.50")),
        ("A", at("12:50"), at("13:20"), 3, Decimal("30.00")),
    }


def test_an_old_batch_delivered_again_raises_no_new_alert(realtime_conn) -> None:
    shop = Shop()
    early = batch(shop.add("A", at("12:00"), 1, 10.0), shop.browse(at("13:00")), partition=0)
    assert process_records(realtime_conn, early, SETTINGS).abandoned_carts == 1  # A
    # Partition 1 is behind (12:20): event time is the low watermark, 12:20, because C's next
    # events could still be unread there, so C is not abandoned yet ...
    assert deliver(realtime_conn, shop.add("C", at("12:20"), 1, 4.5), partition=1) == 0
    # ... until partition 1 reaches 13:00 too: C, idle since 12:20, is abandoned at 12:50.
    assert deliver(realtime_conn, shop.browse(at("13:00")), partition=1) == 1
    before = alerts(realtime_conn, shop)
    assert before == {
        ("A", at("12:00"), at("12:30"), 1, Decimal("10.00")),
        ("C", at("12:20"), at("12:50"), 1, Decimal("4.50")),
    }

    redelivered = process_records(realtime_conn, early, SETTINGS)

    assert (redelivered.counted, redelivered.abandoned_carts) == (0, 0)
    assert alerts(realtime_conn, shop) == before
    assert statuses(realtime_conn, shop) == {"A": "abandoned", "C": "abandoned"}


def test_a_client_clock_far_ahead_does_not_abandon_carts(realtime_conn) -> None:
    shop = Shop()
    now = datetime.now(UTC).replace(microsecond=0)
    deliver(realtime_conn, shop.add("A", now - timedelta(minutes=10), 1, 10.0))

    # A year ahead counts as at most five minutes ahead: A has then been idle 15 minutes.
    assert deliver(realtime_conn, shop.browse(now + timedelta(days=365))) == 0
    assert statuses(realtime_conn, shop) == {"A": "open"}


def test_an_idle_partition_stops_holding_event_time_back(realtime_conn) -> None:
    shop = Shop()
    deliver(realtime_conn, shop.add("C", at("12:20"), 1, 4.5), partition=1)
    assert deliver(realtime_conn, shop.add("A", at("12:00"), 1, 10.0), partition=0) == 0
    # Partition 1 has been quiet longer than the idle limit (in wall time) ...
    realtime_conn.execute(
        "UPDATE realtime.partition_watermarks SET updated_at = now() - make_interval(secs => %s)"
        " WHERE source_partition = 1",
        (IDLE_PARTITION_SECONDS + 1,),
    )
    # ... so partition 0 alone sets event time: at 13:00 A (12:00) and C (12:20) are both idle.
    assert deliver(realtime_conn, shop.browse(at("13:00")), partition=0) == 2
    assert statuses(realtime_conn, shop) == {"A": "abandoned", "C": "abandoned"}
