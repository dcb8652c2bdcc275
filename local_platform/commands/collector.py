"""`ecom collector serve`: the collector Lambda's HTTP API on this machine, on a real broker."""

from __future__ import annotations

from typing import Annotated

import typer

from cdk_app.config import ConfigError, load_config
from contracts.events.topics import DEAD_LETTER_TOPIC, EVENTS_TOPIC
from lambdas.collector.api import KafkaRecordPublisher, create_app
from lambdas.collector.batch import Topics
from local_platform.collector_server import CollectorServer
from local_platform.commands.options import BootstrapServersOption
from local_platform.console import fail, stderr
from local_platform.kafka_publishing import (
    KafkaUnavailableError,
    local_kafka_settings,
    open_producer,
)

app = typer.Typer(help="The collector API (POST /v1/events) on this machine.", no_args_is_help=True)


@app.command()
def serve(
    port: Annotated[
        int, typer.Option(min=0, max=65535, help="TCP port; 0 picks a free one.")
    ] = 8080,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    bootstrap_servers: BootstrapServersOption = None,
    env: Annotated[
        str, typer.Option(help="Environment in cdk.json (topics, CORS origins).")
    ] = "dev",
) -> None:
    """Serve POST /v1/events and GET /v1/health with the Lambda's own handler code."""
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
    try:
        collector = create_app(
            KafkaRecordPublisher(producer), topics, cors_origins=config.ingest.cors_allowed_origins
        )
        server = CollectorServer(host, port, collector.resolve)
    except OSError as error:
        producer.close()
        fail(f"cannot listen on {host}:{port}: {error}")
    stderr.print(
        f"Collector on [bold]{server.url}[/bold] (POST /v1/events, GET /v1/health) -> "
        f"{topics.events} / {topics.dead_letters} on {settings.bootstrap_servers}; Ctrl-C stops"
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        stderr.print("Stopping.")
    finally:
        server.server_close()
        producer.close()
