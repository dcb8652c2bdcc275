"""The live event simulator without a broker: pacing, the interleaving of visits, sending.

Expected values are worked out by hand (token counts) or checked against properties the
behaviour model guarantees per visit (session_started first, the model's own clock never going
back within a visit), independently of how the simulator interleaves visits.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import datetime
from typing import Any

import orjson
import pytest
from confluent_kafka import KafkaError

from contracts.events import validate_event
from local_platform.event_simulator import EventSimulator, TokenBucket, concurrent_visits_for
from local_platform.live_traffic import LiveTraffic

CLOCK_MS = 1_790_000_000_000  # 2026-09-21T14:13:20Z


def fixed_clock() -> int:
    return CLOCK_MS


def take_events(traffic: LiveTraffic, count: int) -> list[dict[str, Any]]:
    return [traffic.next_event() for _ in range(count)]


def test_token_bucket_by_hand() -> None:
    now = [100.0]
    bucket = TokenBucket(rate=10, capacity=5, clock=lambda: now[0])
    assert bucket.take(100) == 0  # starts empty: no burst at start-up
    assert bucket.seconds_until_token() == pytest.approx(0.1)
    now[0] += 0.25  # 2.5 tokens (times are exact binary fractions)
    assert bucket.take(100) == 2
    now[0] += 0.25  # 0.5 left + 2.5 = 3.0
    assert bucket.take(100) == 3
    now[0] += 10.0  # capped at the capacity of 5
    assert bucket.take(2) == 2  # and `most` bounds a take
    assert bucket.take(100) == 3


def test_concurrent_visits_follow_the_rate() -> None:
    assert concurrent_visits_for(10) == 130  # 10 events/s x 13 s of visit per event
    assert concurrent_visits_for(0.01) == 1
    assert concurrent_visits_for(1_000_000) == 10_000


def test_every_live_event_validates() -> None:
    events = take_events(LiveTraffic(users=300, seed=5, concurrent_visits=40), 4000)
    assert [validate_event(event) for event in events] == [[]] * len(events)
    kinds = Counter(event["event_type"] for event in events)
    assert kinds["session_started"] > 0
    assert kinds["product_viewed"] > 0


def test_each_visit_is_whole_and_in_its_own_order() -> None:
    events = take_events(LiveTraffic(users=200, seed=11, concurrent_visits=30), 3000)
    by_session: dict[str, list[dict]] = defaultdict(list)
    for event in events:
        by_session[event["session_id"]].append(event)
    assert len(by_session) > 30  # visits ended and new ones began
    for session in by_session.values():
        assert session[0]["event_type"] == "session_started"
        assert [e["event_type"] for e in session].count("session_started") == 1
        times = [e["occurred_at"] for e in session]  # the model's clock, fixed-width text
        assert times == sorted(times)
        assert len({(e["user_id"], e["anonymous_id"]) for e in session}) == 1


def test_a_customer_is_in_one_visit_at_a_time() -> None:
    # Few customers, many visits in flight: the busy rule is exercised.
    events = take_events(LiveTraffic(users=20, seed=3, concurrent_visits=25), 3000)
    sessions_by_user: dict[int, list[str]] = defaultdict(list)
    for event in events:
        if event["user_id"] is None:
            continue
        visits = sessions_by_user[event["user_id"]]
        if not visits or visits[-1] != event["session_id"]:
            assert event["session_id"] not in visits, "a visit resumed after another began"
            visits.append(event["session_id"])
    assert any(len(visits) > 1 for visits in sessions_by_user.values())


def test_one_visit_in_flight_plays_visits_back_to_back() -> None:
    events = take_events(LiveTraffic(users=50, seed=2, concurrent_visits=1), 500)
    order = [event["session_id"] for event in events]
    blocks = [sid for i, sid in enumerate(order) if i == 0 or order[i - 1] != sid]
    assert len(blocks) == len(set(blocks))


def test_same_seed_same_traffic() -> None:
    first = take_events(LiveTraffic(100, 9, 20, clock_ms=fixed_clock), 500)
    again = take_events(LiveTraffic(100, 9, 20, clock_ms=fixed_clock), 500)
    other = take_events(LiveTraffic(100, 10, 20, clock_ms=fixed_clock), 500)
    assert first == again
    assert [e["event_id"] for e in first] != [e["event_id"] for e in other]


class FakeProducer:
    """An EventProducer whose broker takes every record at once."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes | None, bytes]] = []

    def send(self, topic: str, value: bytes, key: bytes | None, on_delivery: Callable) -> None:
        self.sent.append((topic, key, value))
        on_delivery(None, None)


def test_send_stamps_keys_and_counts() -> None:
    producer = FakeProducer()
    simulator = EventSimulator(LiveTraffic(100, 4, 10), producer, "live.events")
    before = datetime.now().timestamp()
    simulator.send(300)
    after = datetime.now().timestamp()

    assert len(producer.sent) == 300
    decoded = [orjson.loads(value) for _, _, value in producer.sent]
    for (topic, key, _), event in zip(producer.sent, decoded, strict=True):
        assert topic == "live.events"
        user = event["user_id"]
        assert key == (str(user) if user is not None else event["anonymous_id"]).encode()
        sent_at = datetime.fromisoformat(event["occurred_at"]).timestamp()
        assert before - 0.001 <= sent_at <= after + 0.001  # stamped when sent, not model time
    totals = simulator.totals
    assert (totals.sent, totals.acknowledged, totals.failed) == (300, 300, 0)
    assert totals.by_type == Counter(event["event_type"] for event in decoded)


class RefusingProducer(FakeProducer):
    """Takes every third record; the broker refuses the others."""

    def send(self, topic: str, value: bytes, key: bytes | None, on_delivery: Callable) -> None:
        self.sent.append((topic, key, value))
        refused = KafkaError(KafkaError.MSG_SIZE_TOO_LARGE, "Broker: Message size too large")
        on_delivery(None if len(self.sent) % 3 == 0 else refused, None)


def test_refused_records_are_counted_as_failed_with_the_reason() -> None:
    simulator = EventSimulator(LiveTraffic(100, 4, 10), RefusingProducer(), "live.events")
    simulator.send(30)
    totals = simulator.totals
    assert (totals.sent, totals.acknowledged, totals.failed) == (30, 10, 20)
    assert totals.last_error == "Broker: Message size too large"
