"""A clickstream file replayed through the stream processor, counted in and out, and the
live metrics it leaves in the realtime tables.

With no broker, the events file is cut into the payloads the MSK event source mapping hands
the Lambda (msk_batches.py) and fed to the handler body in process. With a broker, the events
are produced to the events topic with the shared producer and read back by the consumer loop
of `ecom stream run` until the consumer group has caught up. Either way the same
`process_msk_event` fills the realtime tables.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg

from cdk_app.config import PlatformConfig, load_config
from contracts.events.topics import DEAD_LETTER_TOPIC, EVENTS_TOPIC, PROCESSOR_CONSUMER_GROUP
from contracts.oltp.migrator import apply_migrations
from lambdas.shared.kafka_producer import KafkaSettings
from lambdas.stream_processor.dead_letters import KafkaDeadLetterPublisher
from lambdas.stream_processor.processor import ProcessorSettings
from local_platform.console import event_progress
from local_platform.events_file import EventsFile
from local_platform.kafka_publishing import (
    BATCH_BYTES,
    LINGER_MS,
    open_producer,
    produce_lines,
)
from local_platform.live_metrics import LiveMetrics, read_live_metrics
from local_platform.msk_batches import process_in_batches
from local_platform.stream_consumer import (
    StreamTotals,
    events_consumer,
    processor_settings,
    records_waiting,
    run_stream_loop,
)

# The consumer loop stops once the group has read what was waiting; this only ends a run in
# which another member of the group took some partitions over.
IDLE_TIMEOUT_S = 30.0
PROGRESS_EVERY_LINES = 5_000
REALTIME_TABLES = (
    "realtime.processed_events", "realtime.minute_metrics", "realtime.minute_sessions",
    "realtime.product_counters", "realtime.cart_abandonment_alerts", "realtime.cart_lines",
    "realtime.carts", "realtime.partition_watermarks", "realtime.dead_letters",
    "realtime.visitor_recent_products",
)  # fmt: skip


@dataclass(frozen=True)
class KafkaRoute:
    """Where the Kafka path produces, and the consumer group that reads it back."""

    topic: str = EVENTS_TOPIC
    dead_letter_topic: str = DEAD_LETTER_TOPIC
    group_id: str = PROCESSOR_CONSUMER_GROUP


@dataclass(frozen=True)
class StageCounts:
    """Counts in and out of a replay; `produced` is None on the in-process path."""

    source: str
    events_read: int
    produced: int | None
    received: int
    processed: int
    duplicates: int
    dead_lettered: int
    alerts_raised: int
    batches: int
    elapsed_s: float


@dataclass(frozen=True)
class RealtimeReport:
    counts: StageCounts
    metrics: LiveMetrics


def run_realtime_stage(
    database_url: str,
    events_path: Path,
    *,
    bootstrap_servers: str | None,
    route: KafkaRoute = KafkaRoute(),
    env: str = "dev",
    reset: bool = False,
) -> RealtimeReport:
    """Feed the events file through the stream processor, then read the live metrics.

    bootstrap_servers None: in process, in MSK-shaped batches. Set: through that broker
    (topics from the environment's config are created when missing). reset empties the
    realtime tables first; otherwise events already counted there are skipped as duplicates.
    Raises KafkaUnavailableError when the broker cannot take the events.
    """
    config = load_config(env)
    settings = processor_settings(config)
    apply_migrations(database_url)
    with psycopg.connect(database_url, autocommit=True) as conn:
        if reset:
            conn.execute(f"TRUNCATE {', '.join(REALTIME_TABLES)}")
        if bootstrap_servers is None:
            counts = _feed_in_process(conn, events_path, settings, config)
        else:
            counts = _feed_through_kafka(
                conn, events_path, settings, config, bootstrap_servers, route
            )
        return RealtimeReport(counts, read_live_metrics(conn))


def _feed_in_process(
    conn: psycopg.Connection, events_path: Path, settings: ProcessorSettings, config: PlatformConfig
) -> StageCounts:
    partitions = config.streaming.topic(EVENTS_TOPIC).partitions
    batch_size = config.realtime.batch_size
    reader = EventsFile(events_path)
    started = time.monotonic()
    with event_progress() as progress:
        task = progress.add_task("stream processor, in process", total=reader.size, events=0)
        totals = process_in_batches(
            reader.values(),
            conn,
            settings,
            topic=EVENTS_TOPIC,
            partitions=partitions,
            batch_size=batch_size,
            on_batch=lambda t: progress.update(task, completed=reader.position, events=t.received),
        )
    return _stage_counts(
        f"in process: MSK-shaped batches of {batch_size:,} over {partitions} partitions",
        reader.lines,
        None,
        totals,
        time.monotonic() - started,
    )


def _feed_through_kafka(
    conn: psycopg.Connection,
    events_path: Path,
    settings: ProcessorSettings,
    config: PlatformConfig,
    bootstrap_servers: str,
    route: KafkaRoute,
) -> StageCounts:
    started = time.monotonic()
    producer = open_producer(
        KafkaSettings(bootstrap_servers),
        config.streaming.topics,
        [route.topic, route.dead_letter_topic],
        client_id="ecom-realtime-stage",
        linger_ms=LINGER_MS,
        batch_size=BATCH_BYTES,
    )
    try:
        reader = EventsFile(events_path)
        with event_progress() as progress:
            task = progress.add_task(f"producing to {route.topic}", total=reader.size, events=0)

            def show_produced() -> None:
                progress.update(task, completed=reader.position, events=reader.lines)

            produced = produce_lines(
                producer, route.topic, _every(reader.values(), PROGRESS_EVERY_LINES, show_produced)
            )
            show_produced()
        consumer = events_consumer(bootstrap_servers, route.topic, route.group_id)
        try:
            waiting = records_waiting(consumer, route.topic)
            with event_progress() as progress:
                task = progress.add_task("stream processor, from Kafka", total=waiting, events=0)
                totals = run_stream_loop(
                    consumer,
                    conn,
                    settings,
                    publisher=KafkaDeadLetterPublisher(producer, route.dead_letter_topic),
                    max_events=waiting,
                    idle_timeout_s=IDLE_TIMEOUT_S,
                    on_batch=lambda t: progress.update(
                        task, completed=t.received, events=t.counted
                    ),
                )
        finally:
            consumer.close()
    finally:
        producer.close()
    return _stage_counts(
        f"Kafka {bootstrap_servers}, topic {route.topic}, group {route.group_id}",
        reader.lines,
        produced,
        totals,
        time.monotonic() - started,
    )


def _every(values: Iterable[bytes], count: int, callback: Callable[[], None]) -> Iterator[bytes]:
    """The values unchanged, calling back after every count-th one is taken."""
    for taken, value in enumerate(values, start=1):
        yield value
        if taken % count == 0:
            callback()


def _stage_counts(
    source: str, read: int, produced: int | None, totals: StreamTotals, elapsed_s: float
) -> StageCounts:
    return StageCounts(
        source=source,
        events_read=read,
        produced=produced,
        received=totals.received,
        processed=totals.counted,
        duplicates=totals.duplicates,
        dead_lettered=totals.dead_lettered,
        alerts_raised=totals.abandoned_carts,
        batches=totals.batches,
        elapsed_s=elapsed_s,
    )
