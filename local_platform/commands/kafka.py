"""`ecom kafka ...`: the local single-node Kafka broker and the topics from config."""

from __future__ import annotations

from typing import Annotated

import typer
from kafka.errors import KafkaError

from cdk_app.config import ConfigError, load_config
from local_platform.commands.options import BootstrapServersOption
from local_platform.commands.servers import start_server, stop_server
from local_platform.console import fail, stderr
from local_platform.kafka_broker import (
    KafkaBroker,
    KafkaBrokerError,
    describe_topics,
    ensure_topics,
    resolve_bootstrap_servers,
)

SERVER = "the local Kafka broker"
app = typer.Typer(help="The local Kafka broker (KRaft, from Maven jars).", no_args_is_help=True)

EnvOption = Annotated[
    str, typer.Option("--env", help="Environment in cdk.json whose topics to create.")
]


def _create_topics(bootstrap_servers: str, env_name: str) -> list[str]:
    try:
        topics = load_config(env_name).streaming.topics
    except ConfigError as error:
        fail(str(error))
    try:
        return ensure_topics(bootstrap_servers, topics)
    except KafkaError as error:
        fail(f"could not create topics on {bootstrap_servers}: {error}")


@app.command()
def up(
    env: EnvOption = "dev",
    print_bootstrap: Annotated[
        bool, typer.Option(help="Print only the bootstrap servers (for scripts).")
    ] = False,
) -> None:
    """Start the local broker (or find it running) and create the topics from config."""
    bootstrap_servers = start_server(KafkaBroker().start, KafkaBrokerError, SERVER)
    created = _create_topics(bootstrap_servers, env)
    if print_bootstrap:
        print(bootstrap_servers)
        return
    stderr.print(f"Kafka broker running: [bold]{bootstrap_servers}[/bold]")
    if created:
        stderr.print(f"Created topics: {', '.join(created)}")


@app.command()
def down() -> None:
    """Stop the local broker; its data stays in .local/kafka."""
    stop_server(KafkaBroker().stop, KafkaBrokerError, SERVER)


@app.command()
def topics(
    env: EnvOption = "dev",
    bootstrap_servers: BootstrapServersOption = None,
) -> None:
    """Create any missing topic from config, then list the topics with their partitions."""
    servers = start_server(
        lambda: resolve_bootstrap_servers(bootstrap_servers), KafkaBrokerError, SERVER
    )
    created = set(_create_topics(servers, env))
    try:
        partitions = describe_topics(servers)
    except KafkaError as error:
        fail(f"could not list topics on {servers}: {error}")
    for name in sorted(partitions):
        note = "  (created)" if name in created else ""
        print(f"{name}\t{partitions[name]} partitions{note}")
