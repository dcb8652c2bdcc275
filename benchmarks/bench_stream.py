"""Stream processor throughput into PostgreSQL, beside a bare consume of the same topic.

    python benchmarks/bench_stream.py [--events 100000] [--bootstrap-servers H:P]
                                      [--database-url URL] [--cpu 0]

Produces N contract-valid events to a fresh 3-partition topic, then reads them twice with
fresh consumer groups: once doing nothing with the records (the ceiling kafka-python allows)
and once through `ecom stream run`'s loop (validate, dedupe, aggregate, upsert, commit) into a
fresh database. Also times the processor alone on the same records without Kafka, and a
cold start of a throw-away local broker. This process is pinned to one CPU (--cpu) so the
figures are per core; the broker and PostgreSQL run in their own processes.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import psycopg
from kafka import KafkaAdminClient, KafkaConsumer
from psycopg.conninfo import conninfo_to_dict, make_conninfo

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))  # the contract-valid session generator of the tests

from stream_events import encode, shopping_sessions  # noqa: E402

from cdk_app.config import TopicConfig  # noqa: E402
from contracts.oltp.migrator import apply_migrations  # noqa: E402
from lambdas.shared.kafka_producer import KafkaSettings, create_producer, event_key  # noqa: E402
from lambdas.stream_processor.processor import (  # noqa: E402
    STAGES,
    ProcessorSettings,
    process_records,
)
from lambdas.stream_processor.records import SourceRecord  # noqa: E402
from local_platform.embedded_postgres import resolve_database_url  # noqa: E402
from local_platform.kafka_broker import (  # noqa: E402
    KafkaBroker,
    ensure_topics,
    resolve_bootstrap_servers,
)
from local_platform.stream_consumer import (  # noqa: E402
    MAX_BATCH_RECORDS,
    StreamTotals,
    events_consumer,
    run_stream_loop,
)

Result = TypeVar("Result")
SETTINGS = ProcessorSettings(cart_abandonment_minutes=30, dedupe_window_hours=72)
EVENTS_PER_SESSION = 6.4  # average of the generator; the exact count is what is produced


@contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    name = f"bench_{uuid.uuid4().hex[:10]}"
    admin = make_conninfo(server_url, dbname=conninfo_to_dict(server_url).get("dbname"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_conninfo(server_url, dbname=name)
    try:
        apply_migrations(url)
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def timed(action: Callable[[], Result]) -> tuple[float, float, Result]:
    """Wall seconds, this process's CPU seconds, and what the action returned."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = action()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def broker_cold_start() -> float:
    with tempfile.TemporaryDirectory() as home:
        broker = KafkaBroker(home=Path(home))
        started = time.perf_counter()
        broker.start()
        elapsed = time.perf_counter() - started
        broker.stop()
    return elapsed


def produce(bootstrap: str, topic: str, payloads: list[tuple[bytes, bytes]]) -> None:
    """Fill the topic with the platform's producer (raises unless every record is stored)."""
    producer = create_producer(
        KafkaSettings(bootstrap), client_id="bench-stream", linger_ms=20, batch_size=256 * 1024
    )
    producer.deliver([(topic, key, value) for key, value in payloads], timeout_s=120)
    producer.close()


def bare_consume(bootstrap: str, topic: str, count: int) -> None:
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"bench-bare-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        max_poll_records=MAX_BATCH_RECORDS,
        fetch_max_wait_ms=200,
    )
    seen = 0
    while seen < count:
        for records in consumer.poll(timeout_ms=500, max_records=MAX_BATCH_RECORDS).values():
            seen += len(records)
        consumer.commit()  # the processor commits once per batch too
    consumer.close()


def process_from_kafka(bootstrap: str, topic: str, database_url: str, count: int) -> StreamTotals:
    consumer = events_consumer(bootstrap, topic, f"bench-proc-{uuid.uuid4().hex[:8]}")
    with psycopg.connect(database_url, autocommit=True) as conn:
        totals = run_stream_loop(consumer, conn, SETTINGS, max_events=count, idle_timeout_s=30)
    consumer.close()
    if totals.counted != count:
        raise SystemExit(f"processor counted {totals.counted} of {count} events")
    return totals


def process_in_memory(records: list[SourceRecord], database_url: str) -> StreamTotals:
    totals = StreamTotals()
    with psycopg.connect(database_url, autocommit=True) as conn:
        for start in range(0, len(records), MAX_BATCH_RECORDS):
            result = process_records(conn, records[start : start + MAX_BATCH_RECORDS], SETTINGS)
            totals.add(result, time.monotonic())
    return totals


def print_stages(runs: dict[str, StreamTotals]) -> None:
    """The processor's own stage timers (wall ms per 1,000 events): where each run's time went.
    In the Kafka run, polling and parsing overlap the counting of the batch before."""
    stages = [*STAGES, "poll", "offset_commit"]
    print(f"{'ms per 1,000 events':40} " + " ".join(f"{stage:>13}" for stage in stages))
    for name, totals in runs.items():
        rates = totals.ms_per_thousand()
        print(f"{name:40} " + " ".join(f"{rates.get(stage, 0.0):>13.1f}" for stage in stages))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--bootstrap-servers")
    parser.add_argument("--database-url")
    parser.add_argument("--cpu", type=int, default=0, help="CPU to pin this process to")
    args = parser.parse_args()
    os.sched_setaffinity(0, {args.cpu})

    start_s = broker_cold_start()
    bootstrap = resolve_bootstrap_servers(args.bootstrap_servers)
    server_url = resolve_database_url(args.database_url)
    events = shopping_sessions(int(args.events / EVENTS_PER_SESSION) + 1, spread_s=3600)
    events = events[: args.events]
    payloads = [(event_key(e), encode(e)) for e in events]
    size = sum(len(value) for _, value in payloads) / len(payloads)
    topic = f"bench.events.{uuid.uuid4().hex[:8]}"
    ensure_topics(bootstrap, [TopicConfig(name=topic, partitions=3, retention_hours=1)])
    count = len(payloads)

    try:
        produce_s, _, _ = timed(lambda: produce(bootstrap, topic, payloads))
        bare_s, bare_cpu, _ = timed(lambda: bare_consume(bootstrap, topic, count))
        with fresh_database(server_url) as database_url:
            proc_s, proc_cpu, kafka_totals = timed(
                lambda: process_from_kafka(bootstrap, topic, database_url, count)
            )
        records = [SourceRecord(topic, 0, i, 0, k, v) for i, (k, v) in enumerate(payloads)]
        with fresh_database(server_url) as database_url:
            mem_s, mem_cpu, memory_totals = timed(lambda: process_in_memory(records, database_url))
    finally:
        admin = KafkaAdminClient(bootstrap_servers=bootstrap)
        admin.delete_topics([topic])
        admin.close()

    print(f"events: {count:,} ({size:,.0f} bytes each), batches of up to {MAX_BATCH_RECORDS:,}")
    print(f"broker cold start (format + start + answering): {start_s:6.2f} s")
    print(f"produce (librdkafka, idempotent, acks=all):    {count / produce_s:>10,.0f} events/s")
    rows = [
        ("bare consume (poll + commit)", bare_s, bare_cpu),
        ("stream processor, Kafka -> PostgreSQL", proc_s, proc_cpu),
        ("stream processor alone, no Kafka", mem_s, mem_cpu),
    ]
    print(f"{'':40} {'events/s':>10} {'per CPU-s':>10} {'vs bare':>8}")
    for name, wall, cpu in rows:
        print(
            f"{name:40} {count / wall:>10,.0f} {count / cpu:>10,.0f} "
            f"{(count / wall) / (count / bare_s):>8.2f}"
        )
    print_stages({"Kafka -> PostgreSQL": kafka_totals, "alone, no Kafka": memory_totals})
    print(
        f"targets (pinned to CPU {args.cpu}): processor >= 0.50 of the bare consume; "
        "alone >= 40,000 events/s per core"
    )


if __name__ == "__main__":
    main()
