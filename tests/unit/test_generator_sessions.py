"""The session behaviour model, order money, timestamps and ids, on small seeded cases."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime

import numpy as np

from contracts.events import validate_event
from data_generators.catalog import Catalog
from data_generators.orders import (
    Aftercare,
    LineItem,
    OrderTotals,
    price_order,
    refund_share,
)
from data_generators.personas import ANONYMOUS_SHOPPER, PERSONAS
from data_generators.randomness import KeyedUuids, RandomStream, format_uuids
from data_generators.session import CountingIds, SessionSimulator
from data_generators.timeline import iso_utc
from data_generators.traffic import DEVICES
from data_generators.visitors import Visitor

START_MS = 1_790_000_000_000  # 2026-09-21T14:13:20Z
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
LOYAL = next(p for p in PERSONAS if p.name == "loyal")


class _Shelf:
    def __init__(self, units: int) -> None:
        self.units = units

    def available(self, product_id: int) -> int:
        return self.units


def _simulator(seed: int = 1, units: int = 50) -> SessionSimulator:
    catalog = Catalog(np.random.default_rng(seed), 400)
    stream = RandomStream(np.random.SeedSequence(seed))
    return SessionSimulator(catalog, stream, CountingIds(), _Shelf(units))


def _customer(user_id: int = 7, **changes: object) -> Visitor:
    fields = {
        "user_id": user_id,
        "anonymous_id": "0b7f7c2e-4f5a-4c1e-9d2a-3f1e2d3c4b5a",
        "persona": LOYAL,
        "device": DEVICES[0],
        "buy_factor": 3.0,  # a keen buyer, so small samples still reach checkout
        "preferred_department": 2,
    }
    return Visitor(**{**fields, **changes})


def test_price_order_by_hand() -> None:
    lines = [LineItem(1, 2, 1999), LineItem(2, 1, 500)]  # 39.98 + 5.00 = 44.98
    # Under $50: $5.99 shipping; 8 % tax on 44.98 = 3.5984 -> 3.60.
    assert price_order(lines, 0) == OrderTotals(4498, 0, 599, 360, 4498 + 599 + 360)

    coupon = price_order([LineItem(3, 3, 2000)], 10)  # 60.00 less 6.00 = 54.00: ships free
    assert coupon == OrderTotals(6000, 600, 0, 432, 5832)


def test_refund_share_is_the_line_share_of_the_total() -> None:
    totals = price_order([LineItem(1, 1, 3000), LineItem(2, 1, 3000)], 10)  # total 58.32
    assert refund_share(totals, LineItem(1, 1, 3000)) == 2916
    single = price_order([LineItem(1, 1, 1000)], 0)
    assert refund_share(single, LineItem(1, 1, 1000)) == single.total


def test_every_event_of_many_visits_is_valid_and_the_record_matches_them() -> None:
    simulator = _simulator()
    orders = 0
    for i in range(300):
        record = simulator.browse(_customer(user_id=i + 1), START_MS + i * 60_000)
        times = [ms for ms, _ in record.events]
        events = [event for _, event in record.events]

        assert [validate_event(event) for event in events] == [[]] * len(events)
        assert times == sorted(times)
        assert len(set(times)) == len(times)
        assert events[0]["event_type"] == "session_started"
        assert record.started_ms == START_MS + i * 60_000
        assert record.page_views == sum(e["event_type"] == "page_viewed" for e in events)
        assert {e["session_id"] for e in events} == {record.session_id}
        if record.cart is not None:
            net = Counter()
            for e in events:
                sign = {"product_added_to_cart": 1, "product_removed_from_cart": -1}.get(
                    e["event_type"], 0
                )
                net[e["properties"].get("product_id")] += sign * e["properties"].get("quantity", 0)
            assert {p: q for p, q in net.items() if q} == {
                p: line.quantity for p, line in record.cart.lines.items()
            }
        if record.order is not None:
            orders += 1
            completed = [e for e in events if e["event_type"] == "order_completed"]
            assert [e["properties"]["order_id"] for e in completed] == [record.order.order_id]
    assert orders >= 10


def test_visitors_who_are_not_signed_in_never_order() -> None:
    simulator = _simulator(seed=2)
    anonymous = Visitor(None, "6f1c9a56-1d0e-4b8e-8a57-9d6c1f0e2a3b", ANONYMOUS_SHOPPER, DEVICES[4])
    records = [simulator.browse(anonymous, START_MS + i * 1000) for i in range(400)]
    kinds = Counter(e["event_type"] for r in records for _, e in r.events)

    assert kinds["product_added_to_cart"] > 0
    assert kinds["order_completed"] == 0
    assert all(e["user_id"] is None for r in records for _, e in r.events)


def test_nothing_out_of_stock_goes_into_a_cart() -> None:
    simulator = _simulator(seed=3, units=0)
    records = [simulator.browse(_customer(), START_MS + i * 1000) for i in range(200)]
    kinds = Counter(e["event_type"] for r in records for _, e in r.events)

    assert kinds["product_viewed"] > 500
    assert kinds["product_added_to_cart"] == 0


def test_aftercare_visit_replays_the_times_its_order_planned() -> None:
    plan = Aftercare(
        kind="defect",
        order_id=41,
        user_id=7,
        visit_start_ms=START_MS,
        gaps_ms=(1000, 2000, 3000, 4000, 5000),
        ticket_category="product_quality",
        ticket_priority="high",
        refund_cents=1234,
        refund_reason="damaged",
        returned=(),
    )
    record = _simulator().aftercare(_customer(), plan)
    types = [e["event_type"] for _, e in record.events]

    assert types == [
        "session_started", "page_viewed", "page_viewed", "page_viewed",
        "support_ticket_opened", "order_refunded",
    ]  # fmt: skip
    assert [ms for ms, _ in record.events] == [
        START_MS + t for t in (0, 1000, 3000, 6000, 10_000, 15_000)
    ]
    assert record.refund.refunded_ms == START_MS + 15_000 == plan.refunded_at_ms
    assert record.events[-1][1]["properties"]["refund_amount"] == 12.34
    assert record.tickets[0].order_id == 41
    assert record.tickets[0].priority == "high"


def test_iso_utc_matches_datetime_formatting() -> None:
    for ms in np.random.default_rng(4).integers(0, 4_102_444_800_000, 500).tolist():
        expected = datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="milliseconds")
        assert iso_utc(ms) == expected.replace("+00:00", "Z")


def test_uuids_are_version_4_and_fixed_by_the_seed() -> None:
    first, second = RandomStream(np.random.SeedSequence(9)), RandomStream(np.random.SeedSequence(9))
    ids = [first.uuid() for _ in range(2000)]

    assert ids == [second.uuid() for _ in range(2000)]
    assert all(UUID4.match(u) for u in ids)
    assert len(set(ids)) == 2000
    assert format_uuids(np.zeros((1, 16), dtype=np.uint8)) == [
        "00000000-0000-4000-8000-000000000000"
    ]
    devices = KeyedUuids(b"k" * 16)
    assert devices.get(5, 0) == devices.get(5, 0) != devices.get(5, 1)
    assert UUID4.match(devices.get(5, 1))
