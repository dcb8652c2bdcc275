"""`ecom stream run`'s loop polls the next batch while one is counted: what that must not change.

Batches are made small (MAX_BATCH_RECORDS patched) so a topic of a few dozen records is read
in several polls, each polled while the previous batch is still being counted. Expected
offsets and counts come from what was produced, not from the loop's code.
"""

from __future__ import annotations

import gc
import uuid
from collections.abc import Iterator, Sequence

import psycopg
import pytest
from kafka import KafkaConsumer, TopicPartition
from kafka_test_topics import StreamTopics, create_stream_topics, delete_stream_topics
from stream_events import encode, shopping_sessions

from lambdas.shared.kafka_producer import EventProducer, ProducerError, event_key
from lambdas.stream_processor.dead_letters import DeadLetter
from lambdas.stream_processor.processor import STAGES, ProcessorSettings
from local_platform import stream_consumer
from local_platform.stream_consumer import events_consumer, run_stream_loop

pytestmark = pytest.mark.integration

SETTINGS = ProcessorSettings(cart_abandonment_minutes=30, dedupe_window_hours=72)
BATCH = 20


class RecordingPublisher:
    """Keeps the dead letters; fails every publish while `failing` (which fails the batch)."""

    def __init__(self, failing: bool) -> None:
        self.failing = failing
        self.letters: list[DeadLetter] = []
        self.collector_enabled: list[bool] = []

    def publish(self, letters: Sequence[DeadLetter]) -> None:
        self.collector_enabled.append(gc.isenabled())
        if self.failing:
            raise ProducerError("broker refused the dead letters")
        self.letters.extend(letters)


@pytest.fixture
def one_partition(kafka_bootstrap: str) -> Iterator[StreamTopics]:
    """One partition, so the records' order (and each batch's content) is the produced order."""
    topics = create_stream_topics(kafka_bootstrap, partitions=1)
    yield topics
    delete_stream_topics(topics)


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stream_consumer, "MAX_BATCH_RECORDS", BATCH)


def produce(producer: EventProducer, topic: str, values: Sequence[bytes]) -> None:
    producer.deliver([(topic, b"k", value) for value in values], timeout_s=30)


def committed(bootstrap: str, topic: str, group: str) -> dict[int, int]:
    """The group's committed offset per partition (0 where nothing was committed)."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group)
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        return {tp.partition: consumer.committed(tp) or 0 for tp in partitions}
    finally:
        consumer.close()


def counted_ids(conn: psycopg.Connection) -> set[str]:
    rows = conn.execute("SELECT event_id::text FROM realtime.processed_events").fetchall()
    return {event_id for (event_id,) in rows}


def test_a_failed_batch_commits_neither_rows_nor_offsets_though_the_next_was_polled(
    one_partition: StreamTopics,
    idempotent_producer: EventProducer,
    realtime_conn: psycopg.Connection,
    small_batches: None,
) -> None:
    events = shopping_sessions(12, seed=31)[:57]
    assert len(events) == 57
    values = [encode(e) for e in events]
    values.insert(27, b"{not json")  # offset 27: the second batch (offsets 20..39) fails
    produce(idempotent_producer, one_partition.events, values)
    group = f"test-{uuid.uuid4().hex[:8]}"
    failing = RecordingPublisher(failing=True)

    consumer = events_consumer(one_partition.bootstrap_servers, one_partition.events, group)
    try:
        with pytest.raises(ProducerError):
            run_stream_loop(consumer, realtime_conn, SETTINGS, publisher=failing, idle_timeout_s=30)
    finally:
        consumer.close()

    # Only the first batch reached the database and had its offsets committed.
    assert counted_ids(realtime_conn) == {e["event_id"] for e in events[:20]}
    assert committed(one_partition.bootstrap_servers, one_partition.events, group) == {0: 20}
    assert failing.collector_enabled == [False]  # paused while counting the batch
    assert gc.isenabled()  # and running again though the batch raised

    working = RecordingPublisher(failing=False)
    consumer = events_consumer(one_partition.bootstrap_servers, one_partition.events, group)
    try:
        totals = run_stream_loop(
            consumer, realtime_conn, SETTINGS, publisher=working, max_events=38
        )
    finally:
        consumer.close()

    assert (totals.received, totals.counted, totals.dead_lettered) == (38, 37, 1)
    assert [letter.record.offset for letter in working.letters] == [27]
    assert counted_ids(realtime_conn) == {e["event_id"] for e in events}
    assert committed(one_partition.bootstrap_servers, one_partition.events, group) == {0: 58}


def test_max_events_stops_with_every_polled_record_counted_and_committed(
    stream_topics: StreamTopics,
    idempotent_producer: EventProducer,
    realtime_conn: psycopg.Connection,
    small_batches: None,
) -> None:
    events = shopping_sessions(23, seed=37)
    idempotent_producer.deliver(
        [(stream_topics.events, event_key(e), encode(e)) for e in events], timeout_s=30
    )
    group = f"test-{uuid.uuid4().hex[:8]}"
    first = 71
    consumer = events_consumer(stream_topics.bootstrap_servers, stream_topics.events, group)
    try:
        # The same consumer twice, as `ecom stream run` callers may: a batch polled ahead and
        # dropped by the first call would be missing from the second.
        head = run_stream_loop(consumer, realtime_conn, SETTINGS, max_events=first)
        assert head.received == first
        assert (
            sum(committed(stream_topics.bootstrap_servers, stream_topics.events, group).values())
            == first
        )
        assert len(counted_ids(realtime_conn)) == first
        tail = run_stream_loop(
            consumer, realtime_conn, SETTINGS, max_events=len(events) - first, idle_timeout_s=30
        )
    finally:
        consumer.close()

    assert tail.received == len(events) - first
    assert head.counted + tail.counted == len(events)
    assert counted_ids(realtime_conn) == {e["event_id"] for e in events}
    offsets = committed(stream_topics.bootstrap_servers, stream_topics.events, group)
    assert sum(offsets.values()) == len(events)
    assert head.batches >= first // BATCH  # small batches did apply
    assert set(head.stage_seconds) == {*STAGES, "poll", "offset_commit"}
    assert all(seconds >= 0 for seconds in head.stage_seconds.values())
