"""The stream processor on a real Kafka broker and a real PostgreSQL.

Expected values are counted straight from the produced events (by their occurred_at text,
session ids and amounts), not from the processor's aggregation code.
"""

from __future__ import annotations

import base64
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import psycopg
import pytest
from kafka import KafkaConsumer, TopicPartition
from kafka_test_topics import StreamTopics, create_stream_topics
from stream_events import START, Visitor, encode, make_event, shopping_sessions

from lambdas.shared.kafka_producer import EventProducer, KafkaSettings, create_producer, event_key
from lambdas.stream_processor import handler as stream_handler
from lambdas.stream_processor.dead_letters import KafkaDeadLetterPublisher
from lambdas.stream_processor.processor import (
    ProcessorSettings,
    process_msk_event,
    process_records,
)
from lambdas.stream_processor.records import SourceRecord, encode_msk_event
from local_platform.kafka_broker import KafkaBroker
from local_platform.stream_consumer import (
    StreamTotals,
    dead_letter_producer,
    events_consumer,
    run_stream_loop,
)

pytestmark = pytest.mark.integration

SETTINGS = ProcessorSettings(cart_abandonment_minutes=30, dedupe_window_hours=72)
Payload = bytes | None


# ---- expected values, computed from the events themselves ---------------------------------


def expected_minutes(events: Sequence[dict[str, Any]]) -> dict[str, tuple]:
    """minute 'YYYY-MM-DDTHH:MM' -> (events, sessions, views, adds, checkouts, orders, revenue)."""
    rows: dict[str, list] = defaultdict(lambda: [0, set(), 0, 0, 0, 0, Decimal(0)])
    for event in events:
        row = rows[event["occurred_at"][:16]]
        row[0] += 1
        row[1].add(event["session_id"])
        kind = event["event_type"]
        row[2] += kind == "product_viewed"
        row[3] += kind == "product_added_to_cart"
        row[4] += kind == "checkout_started"
        if kind == "order_completed":
            row[5] += 1
            row[6] += Decimal(str(event["properties"]["total"]))
    return {
        minute: (n, len(sessions), views, adds, checkouts, orders, revenue)
        for minute, (n, sessions, views, adds, checkouts, orders, revenue) in rows.items()
    }


def stored_minutes(conn: psycopg.Connection) -> dict[str, tuple]:
    rows = conn.execute(
        """
        SELECT to_char(minute AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI'), events,
               active_sessions, product_views, add_to_carts, checkouts, orders, revenue
        FROM realtime.minute_metrics
        """
    ).fetchall()
    return {row[0]: tuple(row[1:]) for row in rows}


def snapshot(conn: psycopg.Connection) -> dict[str, list[tuple]]:
    """Every real-time table without its bookkeeping timestamps."""
    queries = {
        "processed": "SELECT event_id FROM realtime.processed_events ORDER BY 1",
        "minutes": "SELECT minute, events, active_sessions, product_views, add_to_carts,"
        " checkouts, orders, revenue FROM realtime.minute_metrics ORDER BY 1",
        "sessions": "SELECT * FROM realtime.minute_sessions ORDER BY 1, 2",
        "products": "SELECT product_id, views, cart_adds, units_added, units_removed,"
        " units_sold, revenue, last_event_at FROM realtime.product_counters ORDER BY 1",
        "carts": "SELECT cart_id, user_id, session_id, opened_at, last_activity_at,"
        " checkout_started_at, ordered_at, order_id, abandoned_at, status"
        " FROM realtime.carts ORDER BY 1",
        "lines": "SELECT cart_id, product_id, quantity, unit_price FROM realtime.cart_lines"
        " ORDER BY 1, 2",
        "alerts": "SELECT cart_id, last_activity_at, abandoned_at, detected_at, units, cart_value"
        " FROM realtime.cart_abandonment_alerts ORDER BY 1, 2",
        "dead": "SELECT source_topic, source_partition, source_offset, reasons"
        " FROM realtime.dead_letters ORDER BY 1, 2, 3",
        "visitors": "SELECT visitor_key, product_id, action, occurred_at"
        " FROM realtime.visitor_recent_products ORDER BY 1, 2, 3",
    }
    return {name: conn.execute(query).fetchall() for name, query in queries.items()}


def count(conn: psycopg.Connection, table: str) -> int:
    return conn.execute(f"SELECT count(*) FROM realtime.{table}").fetchone()[0]


# ---- Kafka helpers --------------------------------------------------------------------------


def produce(producer: EventProducer, topic: str, payloads: Sequence[tuple[bytes, Payload]]) -> None:
    for key, value in payloads:
        producer.send(topic, key=key, value=value)
    producer.flush()


def consume(
    topics: StreamTopics,
    conn: psycopg.Connection,
    max_events: int,
    group_id: str,
) -> StreamTotals:
    consumer = events_consumer(topics.bootstrap_servers, topics.events, group_id)
    producer = dead_letter_producer(topics.bootstrap_servers)
    try:
        return run_stream_loop(
            consumer,
            conn,
            SETTINGS,
            publisher=KafkaDeadLetterPublisher(producer, topics.dead_letters),
            max_events=max_events,
            idle_timeout_s=30,  # a safety net only: the loop stops at max_events
        )
    finally:
        consumer.close()
        producer.close()


def committed_equals_end(bootstrap: str, topic: str, group_id: str) -> bool:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group_id)
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        ends = consumer.end_offsets(partitions)
        return all((consumer.committed(tp) or 0) == ends[tp] for tp in partitions)
    finally:
        consumer.close()


# ---- tests ----------------------------------------------------------------------------------


def test_every_produced_event_is_counted_exactly_once(
    stream_topics: StreamTopics, idempotent_producer: EventProducer, realtime_conn
) -> None:
    events = shopping_sessions(150, seed=11)
    produce(idempotent_producer, stream_topics.events, [(event_key(e), encode(e)) for e in events])
    group = f"test-{uuid.uuid4().hex[:8]}"

    totals = consume(stream_topics, realtime_conn, len(events), group)

    assert (totals.received, totals.counted, totals.duplicates, totals.dead_lettered) == (
        len(events),
        len(events),
        0,
        0,
    )
    assert count(realtime_conn, "processed_events") == len(events)
    assert stored_minutes(realtime_conn) == expected_minutes(events)
    views = Counter(
        e["properties"]["product_id"] for e in events if e["event_type"] == "product_viewed"
    )
    stored_views = realtime_conn.execute(
        "SELECT product_id, views FROM realtime.product_counters WHERE views > 0"
    ).fetchall()
    assert dict(stored_views) == dict(views)
    orders = {e["properties"]["cart_id"] for e in events if e["event_type"] == "order_completed"}
    converted = realtime_conn.execute(
        "SELECT cart_id::text FROM realtime.carts WHERE status = 'converted'"
    ).fetchall()
    assert {cart_id for (cart_id,) in converted} == orders
    assert committed_equals_end(stream_topics.bootstrap_servers, stream_topics.events, group)


def _records(events: Sequence[dict[str, Any]], first_offset: int = 0) -> list[SourceRecord]:
    return [
        SourceRecord("ecommerce.events.v1", 0, first_offset + i, 0, event_key(e), encode(e))
        for i, e in enumerate(events)
    ]


def test_same_batch_delivered_twice_gives_the_same_tables(realtime_conn) -> None:
    events = shopping_sessions(60, seed=3)
    batch = encode_msk_event(_records(events), "arn:test", "broker:9092")

    first = process_msk_event(batch, realtime_conn, SETTINGS)
    after_first = snapshot(realtime_conn)
    second = process_msk_event(batch, realtime_conn, SETTINGS)

    assert (first.counted, first.duplicates) == (len(events), 0)
    assert (second.counted, second.duplicates) == (0, len(events))
    assert snapshot(realtime_conn) == after_first
    assert stored_minutes(realtime_conn) == expected_minutes(events)


def test_overlapping_batches_count_each_event_once(realtime_conn) -> None:
    events = shopping_sessions(60, seed=5)
    half = len(events) // 2
    records = _records(events)
    # The second delivery repeats the tail of the first, as after a failed offset commit.
    process_msk_event(encode_msk_event(records[: half + 40], "arn", "b"), realtime_conn, SETTINGS)
    result = process_msk_event(
        encode_msk_event(records[half:], "arn", "b"), realtime_conn, SETTINGS
    )

    assert (result.counted, result.duplicates) == (len(events) - half - 40, 40)
    assert stored_minutes(realtime_conn) == expected_minutes(events)
    assert count(realtime_conn, "processed_events") == len(events)


def test_lambda_handler_counts_an_msk_batch(
    migrated_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", migrated_database)
    monkeypatch.setenv("CART_ABANDONMENT_MINUTES", "30")
    monkeypatch.setenv("DEDUPE_WINDOW_HOURS", "72")
    monkeypatch.delenv("DEAD_LETTER_TOPIC", raising=False)  # dead letters: table only
    monkeypatch.setattr(stream_handler, "_connection", None)
    monkeypatch.setattr(stream_handler, "_configuration", None)
    events = shopping_sessions(20, seed=13)

    try:
        result = stream_handler.handler(encode_msk_event(_records(events), "arn", "b"), None)
    finally:
        if stream_handler._connection is not None:
            stream_handler._connection.close()

    assert result["received"] == result["counted"] == len(events)
    with psycopg.connect(migrated_database) as conn:
        assert stored_minutes(conn) == expected_minutes(events)


def test_events_the_tables_cannot_hold_are_dead_lettered_instead_of_retried_forever(
    realtime_conn,
) -> None:
    valid = shopping_sessions(10, seed=19)
    visitor = Visitor(str(uuid.uuid4()), str(uuid.uuid4()), 3)
    cart = str(uuid.uuid4())

    def add(product_id: int, quantity: int) -> dict[str, Any]:
        props = {"cart_id": cart, "product_id": product_id, "quantity": quantity,
                 "unit_price": 1.0, "currency": "USD"}  # fmt: skip
        return make_event("product_added_to_cart", START, visitor, props)

    # Both are valid by the contract (no maximum): the first id is past bigint; the two adds
    # fit an integer each, but not their sum on one cart line.
    beyond_bigint = add(2**63, 1)
    first_add, overflowing_add = add(8, 2**31 - 1), add(8, 1)
    events = [*valid[:30], beyond_bigint, first_add, *valid[30:], overflowing_add]
    records = _records(events)

    result = process_records(realtime_conn, records, SETTINGS)

    assert (result.counted, result.dead_lettered) == (len(valid) + 1, 2)
    refused = realtime_conn.execute(
        "SELECT source_offset, reasons FROM realtime.dead_letters ORDER BY 1"
    ).fetchall()
    assert [offset for offset, _ in refused] == [30, len(events) - 1]
    assert all("cannot store it" in reasons[0] for _, reasons in refused)
    assert stored_minutes(realtime_conn) == expected_minutes([*valid, first_add])


def _poison_records() -> dict[str, tuple[Payload, str]]:
    """name -> (payload, text its reason must contain)."""
    visitor = Visitor(str(uuid.uuid4()), str(uuid.uuid4()), 7)
    cart = str(uuid.uuid4())
    wrong_type = make_event(
        "product_added_to_cart",
        START,
        visitor,
        {"cart_id": cart, "product_id": 5, "quantity": "two", "unit_price": 9.5, "currency": "USD"},
    )
    unknown_type = make_event("coupon_applied", START, visitor, {"code": "SAVE10"})
    oversize = make_event("page_viewed", START, visitor, {"page_type": "home", "path": "/"})
    oversize["context"] = {**oversize["context"], "page": {"path": "/", "title": "x" * 40_000}}
    return {
        "malformed": (b'{"event_id": "0f", "event_type": ', "not valid JSON"),
        "wrong_type": (encode(wrong_type), "properties.quantity"),
        "unknown_type": (encode(unknown_type), "not a known event type"),
        "oversize": (encode(oversize), "over the limit of 32768 bytes"),
        "tombstone": (None, "tombstone"),
    }


def test_poison_records_go_to_the_dead_letter_topic_and_processing_continues(
    stream_topics: StreamTopics, idempotent_producer: EventProducer, realtime_conn
) -> None:
    valid = shopping_sessions(12, seed=9)
    poison = _poison_records()
    payloads = [(event_key(e), encode(e)) for e in valid]
    # Poison at the start, the middle and the end of one partition (all share one key).
    for position, (value, _) in zip([0, 10, 20, 30, len(payloads)], poison.values(), strict=True):
        payloads.insert(position, (b"poison", value))
    produce(idempotent_producer, stream_topics.events, payloads)

    totals = consume(stream_topics, realtime_conn, len(payloads), f"test-{uuid.uuid4().hex[:8]}")

    assert (totals.counted, totals.dead_lettered) == (len(valid), len(poison))
    assert stored_minutes(realtime_conn) == expected_minutes(valid)
    stored = realtime_conn.execute(
        "SELECT payload, reasons FROM realtime.dead_letters ORDER BY source_offset"
    ).fetchall()
    published = _read_all(stream_topics.bootstrap_servers, stream_topics.dead_letters, len(poison))
    for (value, reason_text), (payload, reasons), message in zip(
        poison.values(), stored, published, strict=True
    ):
        assert payload == value
        assert any(reason_text in reason for reason in reasons), reasons
        assert message["reasons"] == reasons
        sent = message["payload_base64"]
        assert (None if sent is None else base64.b64decode(sent)) == value


def _read_all(bootstrap: str, topic: str, expected: int) -> list[dict[str, Any]]:
    consumer = KafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", consumer_timeout_ms=10_000
    )
    try:
        messages = []
        for message in consumer:
            messages.append(orjson.loads(message.value))
            if len(messages) == expected:
                break
        return sorted(messages, key=lambda m: m["source"]["offset"])
    finally:
        consumer.close()


@pytest.fixture
def private_broker(tmp_path: Path) -> Iterator[KafkaBroker]:
    """A broker of this test's own, since it is restarted (the shared one serves other tests)."""
    broker = KafkaBroker(home=tmp_path / "kafka")
    broker.start()
    yield broker
    broker.stop()


def test_broker_restart_mid_stream_loses_nothing_and_counts_nothing_twice(
    private_broker: KafkaBroker, migrated_database: str
) -> None:
    bootstrap = private_broker.status().bootstrap_servers
    assert bootstrap
    topics = create_stream_topics(bootstrap)
    events = shopping_sessions(240, seed=21)
    chunks = [events[: len(events) // 3], events[len(events) // 3 : 2 * len(events) // 3]]
    chunks.append(events[2 * len(events) // 3 :])
    stop = threading.Event()
    totals: list[StreamTotals] = []

    def consume_until_stopped() -> None:
        with psycopg.connect(migrated_database, autocommit=True) as conn:
            consumer = events_consumer(bootstrap, topics.events, "test-restart")
            try:
                while not stop.is_set():
                    totals.append(run_stream_loop(consumer, conn, SETTINGS, idle_timeout_s=0.5))
            finally:
                consumer.close()

    worker = threading.Thread(target=consume_until_stopped)
    worker.start()
    producer = create_producer(KafkaSettings(bootstrap), client_id="test-restart")
    try:
        with psycopg.connect(migrated_database, autocommit=True) as watcher:
            produce(producer, topics.events, [(event_key(e), encode(e)) for e in chunks[0]])
            _wait_for(lambda: count(watcher, "processed_events") > 0)
            private_broker.stop()
            for event in chunks[1]:  # buffered by the producer while the broker is down
                producer.send(topics.events, key=event_key(event), value=encode(event))
            private_broker.start()
            produce(producer, topics.events, [(event_key(e), encode(e)) for e in chunks[2]])
            _wait_for(lambda: count(watcher, "processed_events") == len(events), timeout_s=120)
            time.sleep(1)  # a late redelivery would show up as a count above len(events)
            assert count(watcher, "processed_events") == len(events)
            assert stored_minutes(watcher) == expected_minutes(events)
    finally:
        stop.set()
        worker.join(timeout=60)
        producer.close()
    assert sum(t.counted for t in totals) == len(events)


def _wait_for(condition, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.2)
