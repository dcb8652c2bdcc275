"""`ecom api serve` (also `ecom collector serve`): the platform's HTTP API on this machine, with
the Lambdas' own handlers: the collector on a real broker, the recommendations on PostgreSQL."""

from __future__ import annotations

from typing import Annotated

import typer

from cdk_app.config import ConfigError, load_config
from contracts.events.topics import DEAD_LETTER_TOPIC, EVENTS_TOPIC
from contracts.oltp.migrator import MigrationError, apply_migrations
from lambdas.collector.api import KafkaRecordPublisher, create_app
from lambdas.collector.batch import Topics
from lambdas.recommendations import api as recommendations
from lambdas.recommendations.database import ReadOnlyDatabase
from local_platform.collector_server import CollectorServer, by_path
from local_platform.commands.options import BootstrapServersOption, DatabaseUrlOption
from local_platform.console import fail, stderr
from local_platform.embedded_postgres import resolve_database_url
from local_platform.errors import exit_when_unreachable, redact_url
from local_platform.kafka_publishing import (
    KafkaUnavailableError,
    local_kafka_settings,
    open_producer,
)

app = typer.Typer(
    help="The platform's HTTP API (POST /v1/events, GET /v1/recommendations) on this machine.",
    no_args_is_help=True,
)


@app.command()
def serve(
    port: Annotated[
        int, typer.Option(min=0, max=65535, help="TCP port; 0 picks a free one.")
    ] = 8080,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    bootstrap_servers: BootstrapServersOption = None,
    database_url: DatabaseUrlOption = None,
    env: Annotated[
        str, typer.Option(help="Environment in cdk.json (topics, CORS origins).")
    ] = "dev",
) -> None:
    """Serve POST /v1/events, GET /v1/health and GET /v1/recommendations with the Lambdas' own
    handler code (migrating the database first, as `ecom stream run` does)."""
    try:
        config = load_config(env)
    except ConfigError as error:
        fail(str(error))
    topics = Topics(events=EVENTS_TOPIC, dead_letters=DEAD_LETTER_TOPIC)
    try:
        settings = local_kafka_settings(bootstrap_servers)
        producer = open_producer(
            settings,
            config.streaming.topics,
            [topics.events, topics.dead_letters],
            client_id="ecom-collector",
        )
    except KafkaUnavailableError as error:
        fail(str(error))
    url = resolve_database_url(database_url)
    with exit_when_unreachable(url):
        try:
            apply_migrations(url)
        except MigrationError as error:
            producer.close()
            fail(str(error))
    database = ReadOnlyDatabase(lambda: url)
    try:
        collector = create_app(
            KafkaRecordPublisher(producer), topics, cors_origins=config.ingest.cors_allowed_origins
        )
        handler = by_path(
            {recommendations.RECOMMENDATIONS_PATH: recommendations.create_app(database).resolve},
            collector.resolve,
        )
        server = CollectorServer(host, port, handler)
    except OSError as error:
        producer.close()
        fail(f"cannot listen on {host}:{port}: {error}")
    stderr.print(
        f"API on [bold]{server.url}[/bold]: POST /v1/events, GET /v1/health -> "
        f"{topics.events} / {topics.dead_letters} on {settings.bootstrap_servers}; "
        f"GET /v1/recommendations <- {redact_url(url)}; Ctrl-C stops"
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        stderr.print("Stopping.")
    finally:
        server.server_close()
        producer.close()
        database.close()
