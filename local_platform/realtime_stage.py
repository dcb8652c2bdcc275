"""The demo's real-time stage: the generated clickstream through the stream processor.

With no broker, the events file is cut into the payloads the MSK event source mapping hands
the Lambda (batches of `realtime.batch_size` records, grouped by the partition Kafka's
default partitioner gives each key) and fed to the handler body in process. With a broker,
the events are produced to the events topic with the shared producer and read back by the
consumer loop of `ecom stream run` until the consumer group has caught up. Either way the
same `process_msk_event` fills the realtime tables, which the report then reads: the live
metrics of the last simulated hour and the counts in and out.
"""

from __future__ import annotations

import gzip
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import orjson
import psycopg
from kafka import KafkaConsumer, TopicPartition
from kafka.partitioner.default import murmur2
from rich.console import RenderableType
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from cdk_app.config import PlatformConfig, load_config
from contracts.events.topics import DEAD_LETTER_TOPIC, EVENTS_TOPIC, PROCESSOR_CONSUMER_GROUP
from contracts.oltp.migrator import apply_migrations
from lambdas.shared.kafka_producer import EventProducer, KafkaSettings, ProducerError, event_key
from lambdas.stream_processor.dead_letters import KafkaDeadLetterPublisher
from lambdas.stream_processor.processor import ProcessorSettings, process_msk_event
from lambdas.stream_processor.records import SourceRecord, encode_msk_event
from local_platform.commands.simulate import BATCH_BYTES, LINGER_MS
from local_platform.console import stderr
from local_platform.kafka_publishing import KafkaUnavailableError, open_producer
from local_platform.stream_consumer import (
    StreamTotals,
    events_consumer,
    processor_settings,
    run_stream_loop,
)

# The consumer loop stops once the group has read what was waiting; this only ends a run in
# which another member of the group took some partitions over.
IDLE_TIMEOUT_S = 30.0
FLUSH_TIMEOUT_S = 120.0  # the whole file's events wait for their acknowledgements
TOP_PRODUCTS = 5
IN_PROCESS_SOURCE_ARN = "local:in-process"
REALTIME_TABLES = (
    "realtime.processed_events", "realtime.minute_metrics", "realtime.minute_sessions",
    "realtime.product_counters", "realtime.cart_abandonment_alerts", "realtime.cart_lines",
    "realtime.carts", "realtime.partition_watermarks", "realtime.dead_letters",
)  # fmt: skip
CART_STATUSES = ("open", "checking_out", "abandoned", "converted")


@dataclass(frozen=True)
class KafkaRoute:
    """Where the Kafka path produces, and the consumer group that reads it back."""

    topic: str = EVENTS_TOPIC
    dead_letter_topic: str = DEAD_LETTER_TOPIC
    group_id: str = PROCESSOR_CONSUMER_GROUP


@dataclass(frozen=True)
class StageCounts:
    """Counts in and out of the stage; `produced` is None on the in-process path."""

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
class Activity:
    """Site activity over a span of minutes; active_sessions are distinct over the span."""

    events: int
    active_sessions: int
    product_views: int
    add_to_carts: int
    checkouts: int
    orders: int
    revenue: Decimal


@dataclass(frozen=True)
class ProductActivity:
    product_id: int
    name: str | None  # None when the OLTP catalog does not know the id (yet)
    views: int
    cart_adds: int
    units_sold: int
    revenue: Decimal


@dataclass(frozen=True)
class LiveMetrics:
    """What the realtime tables show. The last simulated hour is the hour of event time that
    ends with the latest minute on record; minutes without events have no row."""

    last_hour: dict[datetime, Activity]
    last_hour_total: Activity
    stream_total: Activity
    top_products: list[ProductActivity]
    carts_by_status: dict[str, int]
    open_cart_value: Decimal
    abandonment_alerts: int
    abandoned_value: Decimal


@dataclass(frozen=True)
class RealtimeReport:
    counts: StageCounts
    metrics: LiveMetrics


def partition_for_key(key: bytes | None, partitions: int) -> int:
    """The partition Kafka's default partitioner picks for a key (murmur2, as the Java client
    and kafka-python do). Kafka spreads keyless records at random; here they go to 0."""
    if key is None:
        return 0
    return (murmur2(key) & 0x7FFFFFFF) % partitions


def record_key(value: bytes) -> bytes | None:
    """The key the producers give an event (its user, else its anonymous id); None when the
    line is not a JSON event."""
    try:
        return event_key(orjson.loads(value))
    except orjson.JSONDecodeError:
        return None


def msk_batches(
    values: Iterable[bytes], topic: str, partitions: int, batch_size: int
) -> Iterator[list[SourceRecord]]:
    """Records as Kafka would hold them (partition by key, offsets counted per partition),
    cut into batches of batch_size in arrival order, like an event source mapping's polls."""
    offsets = [0] * partitions
    batch: list[SourceRecord] = []
    for value in values:
        key = record_key(value)
        partition = partition_for_key(key, partitions)
        stamp_ms = time.time_ns() // 1_000_000  # CREATE_TIME: when the record is "sent"
        batch.append(SourceRecord(topic, partition, offsets[partition], stamp_ms, key, value))
        offsets[partition] += 1
        if len(batch) == batch_size:
            yield batch
            batch = []
    if batch:
        yield batch


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
    totals = StreamTotals()
    reader = EventsFile(events_path)
    started = time.monotonic()
    with _progress() as progress:
        task = progress.add_task("stream processor, in process", total=reader.size, events=0)
        for batch in msk_batches(reader.values(), EVENTS_TOPIC, partitions, batch_size):
            payload = encode_msk_event(batch, IN_PROCESS_SOURCE_ARN, "")
            totals.add(process_msk_event(payload, conn, settings), time.monotonic())
            progress.update(task, completed=reader.position, events=totals.received)
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
        with _progress() as progress:
            task = progress.add_task(f"producing to {route.topic}", total=reader.size, events=0)
            produced = _produce(
                producer,
                route.topic,
                reader,
                lambda: progress.update(task, completed=reader.position, events=reader.lines),
            )
        consumer = events_consumer(bootstrap_servers, route.topic, route.group_id)
        try:
            waiting = _records_waiting(consumer, route.topic)
            with _progress() as progress:
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


def _produce(
    producer: EventProducer, topic: str, reader: EventsFile, on_progress: Callable[[], None]
) -> int:
    """Send every line keyed like the simulator and the collector do; returns how many the
    broker acknowledged, after raising if any send failed."""

    def records() -> Iterator[tuple[str, bytes | None, bytes]]:
        for sent, value in enumerate(reader.values(), start=1):
            yield topic, record_key(value), value
            if sent % 5_000 == 0:
                on_progress()

    try:
        sent = producer.deliver(records(), FLUSH_TIMEOUT_S)
    except ProducerError as error:
        raise KafkaUnavailableError(f"events were not acknowledged: {error}") from error
    on_progress()
    return sent


def _records_waiting(consumer: KafkaConsumer, topic: str) -> int:
    """Records on the topic past the group's committed offsets: what catching up means."""
    partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic))]
    ends = consumer.end_offsets(partitions)
    starts = consumer.beginning_offsets(partitions)
    return sum(ends[tp] - max(consumer.committed(tp) or 0, starts[tp]) for tp in partitions)


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


class EventsFile:
    """The generator's JSON Lines file (gzip when named .gz), read line by line; `position`
    is how far into the file on disk, for a progress bar."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.size = path.stat().st_size
        self.position = 0
        self.lines = 0

    def values(self) -> Iterator[bytes]:
        """Each non-blank line, without its newline."""
        with self.path.open("rb") as raw:
            text = gzip.GzipFile(fileobj=raw) if self.path.name.endswith(".gz") else raw
            for line in text:
                self.position = raw.tell()
                value = line.rstrip(b"\r\n")
                if value.strip():
                    self.lines += 1
                    yield value


@contextmanager
def _progress() -> Iterator[Progress]:
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[events]:,} events"),
        TimeElapsedColumn(),
        console=stderr,
    ) as progress:
        yield progress


def read_live_metrics(conn: psycopg.Connection) -> LiveMetrics:
    """The live metrics as the realtime tables hold them now."""
    (latest,) = conn.execute("SELECT max(minute) FROM realtime.minute_metrics").fetchone()
    hour_end = latest + timedelta(minutes=1) if latest else None
    hour_start = hour_end - timedelta(hours=1) if hour_end else None
    last_hour = {}
    if hour_start is not None:
        for minute, *values in conn.execute(
            """
            SELECT minute, events, active_sessions, product_views, add_to_carts, checkouts,
                   orders, revenue
            FROM realtime.minute_metrics WHERE minute >= %s ORDER BY minute
            """,
            (hour_start,),
        ):
            last_hour[minute] = Activity(*values)
    carts = dict(
        conn.execute("SELECT status, count(*) FROM realtime.carts GROUP BY status").fetchall()
    )
    (open_value,) = conn.execute(
        "SELECT COALESCE(sum(cart_value), 0) FROM realtime.open_carts"
        " WHERE status IN ('open', 'checking_out')"
    ).fetchone()
    alerts, abandoned_value = conn.execute(
        "SELECT count(*), COALESCE(sum(cart_value), 0) FROM realtime.cart_abandonment_alerts"
    ).fetchone()
    return LiveMetrics(
        last_hour=last_hour,
        last_hour_total=_activity(conn, hour_start, hour_end),
        stream_total=_activity(conn, None, None),
        top_products=_top_products(conn),
        carts_by_status={status: carts.get(status, 0) for status in CART_STATUSES},
        open_cart_value=open_value,
        abandonment_alerts=alerts,
        abandoned_value=abandoned_value,
    )


def _activity(conn: psycopg.Connection, start: datetime | None, end: datetime | None) -> Activity:
    """Sums of the minute rows in [start, end) (unbounded when None), with the sessions
    counted once however many of its minutes they were active in."""
    window = {"start": start, "end": end}
    sessions = conn.execute(
        """
        SELECT count(DISTINCT session_id) FROM realtime.minute_sessions
        WHERE (%(start)s::timestamptz IS NULL OR minute >= %(start)s)
          AND (%(end)s::timestamptz IS NULL OR minute < %(end)s)
        """,
        window,
    ).fetchone()[0]
    sums = conn.execute(
        """
        SELECT COALESCE(sum(events), 0), COALESCE(sum(product_views), 0),
               COALESCE(sum(add_to_carts), 0), COALESCE(sum(checkouts), 0),
               COALESCE(sum(orders), 0), COALESCE(sum(revenue), 0)
        FROM realtime.minute_metrics
        WHERE (%(start)s::timestamptz IS NULL OR minute >= %(start)s)
          AND (%(end)s::timestamptz IS NULL OR minute < %(end)s)
        """,
        window,
    ).fetchone()
    events, views, adds, checkouts, orders, revenue = sums
    return Activity(
        int(events), sessions, int(views), int(adds), int(checkouts), int(orders), revenue
    )


def _top_products(conn: psycopg.Connection) -> list[ProductActivity]:
    """Best sellers by live revenue, then units and views; names from the OLTP catalog."""
    rows = conn.execute(
        """
        SELECT c.product_id, p.name, c.views, c.cart_adds, c.units_sold, c.revenue
        FROM realtime.product_counters c
        LEFT JOIN public.products p ON p.id = c.product_id
        ORDER BY c.revenue DESC, c.units_sold DESC, c.views DESC, c.product_id
        LIMIT %s
        """,
        (TOP_PRODUCTS,),
    ).fetchall()
    return [ProductActivity(*row) for row in rows]


def render(report: RealtimeReport) -> list[RenderableType]:
    """Tables for the terminal: counts in and out, the last hour by minute, products, carts."""
    return [
        _counts_table(report.counts),
        _last_hour_table(report.metrics),
        _products_table(report.metrics.top_products),
        _carts_table(report.metrics),
    ]


def _counts_table(counts: StageCounts) -> Table:
    table = Table("count", "value", title=f"Real-time stage ({counts.source})")
    table.add_row("events read from the file", f"{counts.events_read:,}")
    if counts.produced is not None:
        table.add_row("produced to Kafka", f"{counts.produced:,}")
    table.add_row("records received by the processor", f"{counts.received:,}")
    table.add_row("processed (counted once)", f"{counts.processed:,}")
    table.add_row("duplicates skipped", f"{counts.duplicates:,}")
    table.add_row("dead-lettered", f"{counts.dead_lettered:,}")
    table.add_row("abandonment alerts raised", f"{counts.alerts_raised:,}")
    rate = counts.received / counts.elapsed_s if counts.elapsed_s > 0 else 0.0
    table.add_row(
        "batches, time", f"{counts.batches:,} in {counts.elapsed_s:.1f} s ({rate:,.0f} events/s)"
    )
    return table


def _last_hour_table(metrics: LiveMetrics) -> Table:
    minutes = sorted(metrics.last_hour)
    title = "Live metrics, last simulated hour"
    if minutes:
        end = minutes[-1] + timedelta(minutes=1)
        title += f" ({end - timedelta(hours=1):%Y-%m-%d %H:%M}-{end:%H:%M} UTC, active minutes)"
    table = Table(
        "minute", "events", "active sessions", "product views", "add-to-carts", "checkouts",
        "orders", "revenue", title=title, show_footer=True,
    )  # fmt: skip
    for minute in minutes:
        table.add_row(f"{minute:%H:%M}", *_activity_cells(metrics.last_hour[minute]))
    for column, cell in zip(
        table.columns, ["hour", *_activity_cells(metrics.last_hour_total)], strict=True
    ):
        column.footer = cell
    return table


def _activity_cells(activity: Activity) -> list[str]:
    return [
        f"{activity.events:,}",
        f"{activity.active_sessions:,}",
        f"{activity.product_views:,}",
        f"{activity.add_to_carts:,}",
        f"{activity.checkouts:,}",
        f"{activity.orders:,}",
        f"${activity.revenue:,.2f}",
    ]


def _products_table(products: list[ProductActivity]) -> Table:
    table = Table(
        "product", "views", "cart adds", "units sold", "revenue", title="Top products (live)"
    )
    for product in products:
        table.add_row(
            product.name or f"#{product.product_id}",
            f"{product.views:,}",
            f"{product.cart_adds:,}",
            f"{product.units_sold:,}",
            f"${product.revenue:,.2f}",
        )
    return table


def _carts_table(metrics: LiveMetrics) -> Table:
    total = metrics.stream_total
    table = Table("figure", "value", title="Carts and the whole stream")
    for status in CART_STATUSES:
        table.add_row(f"carts {status.replace('_', ' ')}", f"{metrics.carts_by_status[status]:,}")
    table.add_row("value in open carts", f"${metrics.open_cart_value:,.2f}")
    table.add_row(
        "abandonment alerts",
        f"{metrics.abandonment_alerts:,} (${metrics.abandoned_value:,.2f} left in carts)",
    )
    table.add_row("events, all minutes", f"{total.events:,}")
    table.add_row("orders, revenue", f"{total.orders:,}, ${total.revenue:,.2f}")
    return table
