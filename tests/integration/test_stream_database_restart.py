"""`ecom stream run`'s loop rides out a PostgreSQL restart: it reconnects with bounded backoff,
retries the batch it was counting, commits offsets only after the database did, and says
so in one line when the connection is lost and one when it is back.

The server restarted here is a throw-away embedded PostgreSQL of this test's own (the shared
one serves other tests); the broker is the shared one, with fresh topics."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from kafka_test_topics import StreamTopics
from stream_events import encode, shopping_sessions

from contracts.oltp.migrator import apply_migrations
from lambdas.shared.kafka_producer import EventProducer, event_key
from lambdas.stream_processor.processor import ProcessorSettings
from local_platform.embedded_postgres import EmbeddedPostgres
from local_platform.stream_consumer import StreamTotals, events_consumer, run_stream_loop

pytestmark = pytest.mark.integration

SETTINGS = ProcessorSettings(cart_abandonment_minutes=30, dedupe_window_hours=72)


@pytest.fixture
def private_postgres(tmp_path: Path) -> Iterator[tuple[EmbeddedPostgres, str]]:
    """A server of this test's own, in tmp_path on a free port, since the test stops it."""
    server = EmbeddedPostgres(home=tmp_path / "postgres")
    url = server.start()
    apply_migrations(url)
    yield server, url
    server.stop()


def _produce(producer: EventProducer, topic: str, events: list[dict]) -> None:
    for event in events:
        producer.send(topic, key=event_key(event), value=encode(event))
    producer.flush()


def _count(url: str) -> int:
    """Events counted so far; 0 while the server is down."""
    try:
        with psycopg.connect(url, connect_timeout=2) as conn:
            return conn.execute("SELECT count(*) FROM realtime.processed_events").fetchone()[0]
    except psycopg.OperationalError:
        return 0


def _wait_for(condition: Callable[[], bool], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.2)


def test_database_restart_mid_stream_loses_nothing_and_counts_nothing_twice(
    private_postgres: tuple[EmbeddedPostgres, str],
    stream_topics: StreamTopics,
    idempotent_producer: EventProducer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server, url = private_postgres
    events = shopping_sessions(240, seed=23)
    third = len(events) // 3
    chunks = [events[:third], events[third : 2 * third], events[2 * third :]]
    results: list[StreamTotals] = []
    failures: list[BaseException] = []

    def consume() -> None:
        consumer = events_consumer(stream_topics.bootstrap_servers, stream_topics.events, "t-db")
        try:
            with psycopg.connect(url, autocommit=True) as conn:
                results.append(
                    run_stream_loop(
                        consumer,
                        conn,
                        SETTINGS,
                        max_events=len(events),
                        idle_timeout_s=120,  # a safety net only: the loop stops at max_events
                        database_url=url,
                    )
                )
        except BaseException as error:  # surfaced by the assertions below
            failures.append(error)
        finally:
            consumer.close()

    caplog.set_level(logging.INFO, logger="local_platform")
    worker = threading.Thread(target=consume)
    worker.start()
    try:
        _produce(idempotent_producer, stream_topics.events, chunks[0])
        _wait_for(lambda: _count(url) == len(chunks[0]))
        server.stop()
        _produce(idempotent_producer, stream_topics.events, chunks[1])
        time.sleep(2)  # the loop meets the dead server and backs off
        server.start()
        _produce(idempotent_producer, stream_topics.events, chunks[2])
    finally:
        worker.join(timeout=120)
    assert not worker.is_alive()
    assert not failures, failures

    with psycopg.connect(url) as conn:
        processed = conn.execute("SELECT count(*) FROM realtime.processed_events").fetchone()[0]
        per_minute = dict(
            conn.execute(
                "SELECT to_char(minute AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI'), events "
                "FROM realtime.minute_metrics"
            ).fetchall()
        )
    assert processed == len(events)
    assert per_minute == Counter(e["occurred_at"][:16] for e in events)
    (totals,) = results
    assert totals.received == len(events)
    assert totals.counted + totals.duplicates == len(events)
    assert totals.uncommitted_batches == 0
    states = [r.getMessage() for r in caplog.records if r.name.startswith("local_platform")]
    assert len(states) == 2, states
    assert states[0].startswith("database connection lost")
    assert states[1].startswith("database connection restored")
