"""End-to-end latency of the real-time path: produced -> visible in a real-time table.

    python benchmarks/bench_latency.py [--rate 1000] [--duration 20] [--bootstrap-servers H:P]
                                       [--database-url URL]

On the local broker and PostgreSQL, with a fresh topic (the dev events topic's partition
count) and a fresh database:
- the consumer loop of `ecom stream run` runs in its own process (MSK-shaped batches into
  `process_msk_event`, offsets committed after the database);
- `ecom simulate`'s simulator sends live events at --rate for --duration seconds, each
  stamped with its send time (occurred_at, in milliseconds) and keyed by user;
- a poller reads the rows new in realtime.processed_events every few milliseconds. Those rows
  commit in the same transaction as the minute, product and cart counters, so the moment a
  row is first seen is the moment the event is visible in the real-time tables.
Latency is first seen minus send time, both on this machine's clock; the poll interval bounds
the error (printed). Target: p99 < 2 s at 1,000 events/s.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event as ProcessEvent
from pathlib import Path

import numpy as np
import psycopg
from kafka import KafkaAdminClient

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_stream import SETTINGS, fresh_database  # noqa: E402

from cdk_app.config import TopicConfig, load_config  # noqa: E402
from contracts.events.topics import EVENTS_TOPIC  # noqa: E402
from lambdas.shared.kafka_producer import KafkaSettings, create_producer  # noqa: E402
from local_platform.embedded_postgres import resolve_database_url  # noqa: E402
from local_platform.event_simulator import EventSimulator, concurrent_visits_for  # noqa: E402
from local_platform.kafka_broker import ensure_topics, resolve_bootstrap_servers  # noqa: E402
from local_platform.kafka_publishing import BATCH_BYTES, LINGER_MS  # noqa: E402
from local_platform.live_traffic import LiveTraffic  # noqa: E402
from local_platform.stream_consumer import events_consumer, run_stream_loop  # noqa: E402

TARGET_P99_S = 2.0
POLL_INTERVAL_S = 0.005
USERS = 10_000
# The consumer stops after this long without records, i.e. once the simulator is done.
CONSUMER_IDLE_S = 3.0
# How long to wait, after the last send, for the last events to become visible.
DRAIN_TIMEOUT_S = 30.0
WINDOW_S = 5.0


@dataclass(frozen=True)
class Sighting:
    sent_at: float  # epoch seconds: the event's occurred_at, stamped when it was sent
    transaction_started_at: float  # processed_at: when the batch's transaction began
    seen_at: float  # when the poller first read the row


def consume(
    bootstrap: str, topic: str, database_url: str, ready: ProcessEvent, results: Queue
) -> None:
    """The consumer process: join the group, signal, then run the loop until idle."""
    consumer = events_consumer(bootstrap, topic, f"bench-latency-{uuid.uuid4().hex[:8]}")
    while not consumer.assignment():  # join the group before the first event is sent
        consumer.poll(timeout_ms=100)
    ready.set()
    with psycopg.connect(database_url, autocommit=True) as conn:
        totals = run_stream_loop(consumer, conn, SETTINGS, idle_timeout_s=CONSUMER_IDLE_S)
    consumer.close()
    results.put((totals.batches, totals.received, totals.counted))


def start_sender(
    simulator: EventSimulator, rate: float, duration_s: float, done: dict
) -> threading.Thread:
    """A thread running the simulator at `rate` for `duration_s`, then flushing; `done` gets
    what was sent and acknowledged, and the seconds of sending."""

    def send() -> None:
        started = time.monotonic()
        totals = simulator.run(rate, threading.Event(), duration_s)
        seconds = time.monotonic() - started
        simulator.producer.flush()
        done.update(sent=totals.sent, acknowledged=totals.acknowledged, seconds=seconds)

    thread = threading.Thread(target=send)
    thread.start()
    return thread


def watch(
    database_url: str, sender: threading.Thread, done: dict
) -> tuple[dict[str, Sighting], list[float]]:
    """Poll for newly committed rows until every acknowledged event was seen (or the drain
    timeout passed); returns the sightings by event id and the poll start times."""
    sightings: dict[str, Sighting] = {}
    polls: list[float] = []
    last_block = 0
    drain_deadline: float | None = None
    with psycopg.connect(database_url, autocommit=True) as conn:
        while True:
            polled_at = time.time()
            polls.append(polled_at)
            # Rows are only ever appended to this table, so new ones are in the last block seen
            # or after it: a TID range scan reads just those, however large the table grows.
            rows = conn.execute(
                """
                SELECT event_id::text, occurred_at, processed_at, (ctid::text::point)[0]::int
                FROM realtime.processed_events WHERE ctid >= %s::tid
                """,
                (f"({last_block},0)",),
            ).fetchall()
            seen_at = time.time()
            for event_id, occurred_at, processed_at, block in rows:
                last_block = max(last_block, block)
                if event_id not in sightings:
                    sightings[event_id] = Sighting(
                        occurred_at.timestamp(), processed_at.timestamp(), seen_at
                    )
            if not sender.is_alive():
                drain_deadline = drain_deadline or time.monotonic() + DRAIN_TIMEOUT_S
                if len(sightings) >= done["acknowledged"] or time.monotonic() > drain_deadline:
                    return sightings, polls
            time.sleep(max(0.0, POLL_INTERVAL_S - (time.time() - polled_at)))


def quantiles(values: np.ndarray) -> str:
    p50, p95, p99 = np.percentile(values, [50, 95, 99])
    return f"p50 {p50:6.3f} s  p95 {p95:6.3f} s  p99 {p99:6.3f} s  max {values.max():6.3f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=1_000.0, help="events per second")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of sending")
    parser.add_argument("--bootstrap-servers")
    parser.add_argument("--database-url")
    args = parser.parse_args()

    bootstrap = resolve_bootstrap_servers(args.bootstrap_servers)
    server_url = resolve_database_url(args.database_url)
    partitions = load_config("dev").streaming.topic(EVENTS_TOPIC).partitions
    topic = f"bench.latency.{uuid.uuid4().hex[:8]}"
    ensure_topics(bootstrap, [TopicConfig(name=topic, partitions=partitions, retention_hours=1)])
    spawn = multiprocessing.get_context("spawn")
    try:
        with fresh_database(server_url) as database_url:
            producer = create_producer(
                KafkaSettings(bootstrap),
                client_id="bench-latency",
                linger_ms=LINGER_MS,
                batch_size=BATCH_BYTES,
            )
            producer.has_topic(topic, timeout_s=10)  # metadata fetched before the clock starts
            traffic = LiveTraffic(USERS, seed=3, concurrent_visits=concurrent_visits_for(args.rate))
            ready, results = spawn.Event(), spawn.Queue()
            consumer = spawn.Process(
                target=consume, args=(bootstrap, topic, database_url, ready, results)
            )
            consumer.start()
            if not ready.wait(60):
                raise SystemExit("the consumer did not join its group within 60 s")
            done: dict = {}
            sender = start_sender(
                EventSimulator(traffic, producer, topic), args.rate, args.duration, done
            )
            sightings, polls = watch(database_url, sender, done)
            producer.close()
            batches, received, counted = results.get(timeout=60)
            consumer.join()
    finally:
        admin = KafkaAdminClient(bootstrap_servers=bootstrap)
        admin.delete_topics([topic])
        admin.close()

    report(args, partitions, done, sightings, polls, batches, received, counted)


def report(
    args: argparse.Namespace,
    partitions: int,
    done: dict,
    sightings: dict[str, Sighting],
    polls: list[float],
    batches: int,
    received: int,
    counted: int,
) -> None:
    seen = sorted(sightings.values(), key=lambda s: s.sent_at)
    latency = np.array([s.seen_at - s.sent_at for s in seen])
    to_transaction = np.array([s.transaction_started_at - s.sent_at for s in seen])
    gaps = np.diff(polls)
    print(
        f"topic: {partitions} partitions; producer: `ecom simulate` settings (acks=all, "
        f"idempotent, linger.ms={LINGER_MS}); consumer: `ecom stream run` loop in its own process"
    )
    print(
        f"sent {done['sent']:,} in {done['seconds']:.1f} s: achieved "
        f"{done['sent'] / done['seconds']:,.0f} events/s (asked {args.rate:,.0f}); "
        f"acknowledged {done['acknowledged']:,}"
    )
    print(
        f"processor: {received:,} records in {batches:,} batches "
        f"({received / max(batches, 1):,.0f} per batch), {counted:,} counted; "
        f"visible: {len(seen):,} of {done['acknowledged']:,}"
    )
    print(f"poll interval: mean {gaps.mean() * 1000:.1f} ms, max {gaps.max() * 1000:.1f} ms")
    print(f"send -> transaction start: {quantiles(to_transaction)}")
    print(f"send -> visible (e2e):     {quantiles(latency)}  mean {latency.mean():.3f} s")
    offsets = np.array([s.sent_at for s in seen]) - seen[0].sent_at
    windows = [
        latency[(offsets >= start) & (offsets < start + WINDOW_S)]
        for start in np.arange(0.0, offsets.max() + WINDOW_S, WINDOW_S)
    ]
    print(
        f"p99 per {WINDOW_S:.0f} s of sending: "
        + ", ".join(f"{np.percentile(w, 99):.3f}" for w in windows if w.size)
    )
    p99 = float(np.percentile(latency, 99))
    verdict = "met" if p99 < TARGET_P99_S and len(seen) == done["acknowledged"] else "NOT met"
    print(f"target: p99 < {TARGET_P99_S:.0f} s at {args.rate:,.0f} events/s: {verdict}")


if __name__ == "__main__":
    main()
