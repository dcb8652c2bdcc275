"""`ecom stream run`: the stream processor as a Kafka consumer loop on this machine."""

from __future__ import annotations

import time
from typing import Annotated

import psycopg
import typer
from kafka.errors import KafkaError

from cdk_app.config import ConfigError, load_config
from contracts.events.topics import DEAD_LETTER_TOPIC, EVENTS_TOPIC, PROCESSOR_CONSUMER_GROUP
from contracts.oltp.migrator import MigrationError, apply_migrations
from lambdas.stream_processor.dead_letters import KafkaDeadLetterPublisher
from local_platform.commands.options import BootstrapServersOption, DatabaseUrlOption
from local_platform.console import fail, stderr
from local_platform.embedded_postgres import resolve_database_url
from local_platform.errors import exit_when_unreachable, redact_url
from local_platform.kafka_broker import KafkaBrokerError, ensure_topics, resolve_bootstrap_servers
from local_platform.stream_consumer import (
    StreamTotals,
    dead_letter_producer,
    events_consumer,
    processor_settings,
    run_stream_loop,
)

app = typer.Typer(help="The stream processor on a real Kafka broker.", no_args_is_help=True)
_PROGRESS_EVERY_S = 2.0


def _summary(totals: StreamTotals) -> str:
    return (
        f"received {totals.received:,} · counted {totals.counted:,} · "
        f"duplicates {totals.duplicates:,} · dead letters {totals.dead_lettered:,} · "
        f"abandoned carts {totals.abandoned_carts:,} · {totals.records_per_s:,.0f} records/s"
    )


def _stage_summary(totals: StreamTotals) -> str:
    """Where the time went, per 1,000 records (polling overlaps counting, so the stages add up
    to more than the elapsed time)."""
    stages = " · ".join(f"{stage} {ms:,.1f}" for stage, ms in totals.ms_per_thousand().items())
    return f"ms per 1,000 records: {stages}"


@app.command()
def run(
    bootstrap_servers: BootstrapServersOption = None,
    database_url: DatabaseUrlOption = None,
    topic: Annotated[str, typer.Option(help="Events topic to consume.")] = EVENTS_TOPIC,
    dead_letter_topic: Annotated[
        str, typer.Option(help="Topic for records that fail validation.")
    ] = DEAD_LETTER_TOPIC,
    group_id: Annotated[str, typer.Option(help="Consumer group.")] = PROCESSOR_CONSUMER_GROUP,
    env: Annotated[str, typer.Option(help="Environment in cdk.json (topics, thresholds).")] = "dev",
    max_events: Annotated[
        int | None, typer.Option(min=1, help="Stop after this many records.", show_default=False)
    ] = None,
    idle_timeout: Annotated[
        float | None,
        typer.Option(
            min=0, help="Stop after this many seconds without records.", show_default=False
        ),
    ] = None,
) -> None:
    """Consume events into the real-time tables; offsets are committed after the database.
    A database restart is ridden out: the loop reconnects and retries the batch."""
    try:
        config = load_config(env)
        servers = resolve_bootstrap_servers(bootstrap_servers)
        ensure_topics(servers, config.streaming.topics)
    except ConfigError as error:
        fail(str(error))
    except (KafkaBrokerError, KafkaError) as error:
        fail(f"Kafka is not available: {error}")
    url = resolve_database_url(database_url)
    with exit_when_unreachable(url):
        try:
            apply_migrations(url)
            conn = psycopg.connect(url, autocommit=True)
        except MigrationError as error:
            fail(str(error))

    settings = processor_settings(config)
    consumer = events_consumer(servers, topic, group_id)
    producer = dead_letter_producer(servers)
    latest = StreamTotals()
    last_report = time.monotonic()

    def report(totals: StreamTotals) -> None:
        nonlocal latest, last_report
        latest = totals
        if time.monotonic() - last_report >= _PROGRESS_EVERY_S:
            last_report = time.monotonic()
            stderr.print(_summary(totals), highlight=False, soft_wrap=True)

    stderr.print(f"Consuming {topic} from {servers} into {redact_url(url)} (Ctrl-C stops)")
    try:
        latest = run_stream_loop(
            consumer,
            conn,
            settings,
            publisher=KafkaDeadLetterPublisher(producer, dead_letter_topic),
            max_events=max_events,
            idle_timeout_s=idle_timeout,
            on_batch=report,
            database_url=url,
        )
    except KeyboardInterrupt:
        stderr.print("Stopped. A batch in flight was not committed; it is read again next time.")
    finally:
        consumer.close()
        producer.close()
        conn.close()
    stderr.print(f"Done: {_summary(latest)}", highlight=False, soft_wrap=True)
    if latest.received:
        stderr.print(_stage_summary(latest), highlight=False, soft_wrap=True)
