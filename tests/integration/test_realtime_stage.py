"""The demo's real-time stage on a small generated store, in process and through Kafka.

Expected figures are counted from the events file itself with the standard library (json,
gzip), never through the stream processor's code.
"""

from __future__ import annotations

import gzip
import io
import json
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from kafka_test_topics import StreamTopics, create_stream_topics, delete_stream_topics
from rich.console import Console

from cdk_app.config import load_config
from contracts.events.topics import EVENTS_TOPIC
from data_generators import GenerationSettings, generate_store
from local_platform.demo.realtime import render
from local_platform.stream_replay import KafkaRoute, run_realtime_stage

pytestmark = pytest.mark.integration

# Seed 7 puts carts, a checkout and 91 events into the last hour of this small store.
STORE = GenerationSettings(users=100, days=3, seed=7)
DEV = load_config("dev")


@pytest.fixture
def store(empty_database: str, tmp_path: Path) -> tuple[str, Path]:
    """A generated store's database and its clickstream file."""
    events_path = tmp_path / "events.jsonl.gz"
    generate_store(STORE, empty_database, events_out=events_path, progress=False)
    return empty_database, events_path


def file_events(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        return [json.loads(line, parse_float=Decimal) for line in lines if line.strip()]


def minute_of(event: dict) -> datetime:
    at = datetime.fromisoformat(event["occurred_at"])
    return at.replace(second=0, microsecond=0)


def cart_statuses(events: list[dict], idle_minutes: int) -> Counter:
    """Each cart's status at the end of the file: converted, checking out, abandoned (idle
    for idle_minutes before the last event of the stream) or open."""
    now = max(datetime.fromisoformat(e["occurred_at"]) for e in events)
    last_activity: dict[str, datetime] = {}
    kinds: dict[str, set] = defaultdict(set)
    for event in events:
        cart_id = event["properties"].get("cart_id")
        if cart_id is not None:
            at = datetime.fromisoformat(event["occurred_at"])
            last_activity[cart_id] = max(at, last_activity.get(cart_id, at))
            kinds[cart_id].add(event["event_type"])
    statuses: Counter = Counter()
    for cart_id, last in last_activity.items():
        if "order_completed" in kinds[cart_id]:
            statuses["converted"] += 1
        elif "checkout_started" in kinds[cart_id]:
            statuses["checking_out"] += 1
        elif last <= now - timedelta(minutes=idle_minutes):
            statuses["abandoned"] += 1
        else:
            statuses["open"] += 1
    return statuses


def partitions_by_event(database_url: str) -> dict[str, int]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT event_id::text, source_partition FROM realtime.processed_events"
        ).fetchall()
    return dict(rows)


def test_in_process_counts_every_line_and_every_order_once(store: tuple[str, Path]) -> None:
    database_url, events_path = store
    events = file_events(events_path)
    orders = [e for e in events if e["event_type"] == "order_completed"]
    assert orders, "the store must have orders for this test to mean anything"

    report = run_realtime_stage(database_url, events_path, bootstrap_servers=None)

    counts = report.counts
    assert (counts.events_read, counts.received, counts.processed) == (len(events),) * 3
    assert (counts.produced, counts.duplicates, counts.dead_lettered) == (None, 0, 0)
    assert counts.batches == -(-len(events) // DEV.realtime.batch_size)
    total = report.metrics.stream_total
    assert total.events == len(events)
    assert total.orders == len(orders)
    assert total.revenue == sum(e["properties"]["total"] for e in orders)
    assert total.active_sessions == len({e["session_id"] for e in events})
    expected_carts = cart_statuses(events, DEV.realtime.cart_abandonment_minutes)
    assert report.metrics.carts_by_status == {
        status: expected_carts[status]
        for status in ("open", "checking_out", "abandoned", "converted")
    }
    assert report.metrics.abandonment_alerts == expected_carts["abandoned"]
    console = Console(record=True, width=160, file=io.StringIO())
    console.print(*render(report))
    lines = console.export_text().splitlines()
    assert any("processed (counted once)" in line and f"{len(events):,}" in line for line in lines)
    assert any(f"{len(orders):,}, ${total.revenue:,.2f}" in line for line in lines)


def test_last_hour_rows_match_the_file_minute_by_minute(store: tuple[str, Path]) -> None:
    database_url, events_path = store
    events = file_events(events_path)
    hour_end = max(minute_of(e) for e in events) + timedelta(minutes=1)
    last_hour = [e for e in events if minute_of(e) >= hour_end - timedelta(hours=1)]
    kinds: dict[datetime, Counter] = defaultdict(Counter)
    sessions: dict[datetime, set] = defaultdict(set)
    revenue: dict[datetime, Decimal] = defaultdict(Decimal)
    for event in last_hour:
        minute = minute_of(event)
        kinds[minute][event["event_type"]] += 1
        sessions[minute].add(event["session_id"])
        if event["event_type"] == "order_completed":
            revenue[minute] += event["properties"]["total"]

    metrics = run_realtime_stage(database_url, events_path, bootstrap_servers=None).metrics

    assert sorted(metrics.last_hour) == sorted(kinds)
    for minute, activity in metrics.last_hour.items():
        assert activity.events == sum(kinds[minute].values())
        assert activity.active_sessions == len(sessions[minute])
        assert activity.product_views == kinds[minute]["product_viewed"]
        assert activity.add_to_carts == kinds[minute]["product_added_to_cart"]
        assert activity.checkouts == kinds[minute]["checkout_started"]
        assert activity.orders == kinds[minute]["order_completed"]
        assert activity.revenue == revenue[minute]
    assert metrics.last_hour_total.events == len(last_hour)
    assert metrics.last_hour_total.active_sessions == len({e["session_id"] for e in last_hour})


def test_a_second_run_counts_nothing_twice_unless_reset(store: tuple[str, Path]) -> None:
    database_url, events_path = store
    first = run_realtime_stage(database_url, events_path, bootstrap_servers=None)

    again = run_realtime_stage(database_url, events_path, bootstrap_servers=None)
    reset = run_realtime_stage(database_url, events_path, bootstrap_servers=None, reset=True)

    lines = first.counts.events_read
    assert (again.counts.processed, again.counts.duplicates) == (0, lines)
    assert (reset.counts.processed, reset.counts.duplicates) == (lines, 0)
    assert again.metrics == first.metrics
    assert reset.metrics == first.metrics


@pytest.fixture
def config_sized_topics(kafka_bootstrap: str) -> Iterator[StreamTopics]:
    """Test topics with as many partitions as the dev config's events topic."""
    partitions = next(t.partitions for t in DEV.streaming.topics if t.name == EVENTS_TOPIC)
    topics = create_stream_topics(kafka_bootstrap, partitions)
    yield topics
    delete_stream_topics(topics)


def test_kafka_path_gives_the_same_aggregates_and_partitions(
    store: tuple[str, Path], config_sized_topics: StreamTopics
) -> None:
    database_url, events_path = store
    topics = config_sized_topics
    lines = len(file_events(events_path))
    in_process = run_realtime_stage(database_url, events_path, bootstrap_servers=None)
    partitions_in_process = partitions_by_event(database_url)
    route = KafkaRoute(topics.events, topics.dead_letters, f"test-stage-{uuid.uuid4().hex[:8]}")

    through_kafka = run_realtime_stage(
        database_url,
        events_path,
        bootstrap_servers=topics.bootstrap_servers,
        route=route,
        reset=True,
    )

    counts = through_kafka.counts
    assert (counts.events_read, counts.produced, counts.received) == (lines,) * 3
    assert (counts.processed, counts.duplicates, counts.dead_lettered) == (lines, 0, 0)
    assert through_kafka.metrics == in_process.metrics
    # Same partition count, so Kafka's partitioner put every event where the in-process
    # batches did.
    assert partitions_by_event(database_url) == partitions_in_process
