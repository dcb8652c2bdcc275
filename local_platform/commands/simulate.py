"""`ecom simulate`: live events from the generator's behaviour model into Kafka, at a set rate."""

from __future__ import annotations

import secrets
import signal
import threading
from typing import Annotated

import typer

from cdk_app.config import ConfigError, load_config
from contracts.events.topics import EVENTS_TOPIC
from data_generators.settings import MAX_USERS
from lambdas.shared.kafka_producer import ProducerError
from local_platform.commands.options import BootstrapServersOption
from local_platform.console import fail, stderr
from local_platform.event_simulator import EventSimulator, SimulationTotals, concurrent_visits_for
from local_platform.kafka_publishing import (
    BATCH_BYTES,
    FLUSH_TIMEOUT_S,
    LINGER_MS,
    KafkaUnavailableError,
    local_kafka_settings,
    open_producer,
)
from local_platform.live_traffic import LiveTraffic


def _totals_line(totals: SimulationTotals) -> str:
    line = f"sent {totals.sent:,} · acknowledged {totals.acknowledged:,} · failed {totals.failed:,}"
    return f"{line} · last error: {totals.last_error}" if totals.last_error else line


def simulate(
    rate: Annotated[float, typer.Option(min=0.01, help="Events per second.")] = 10.0,
    duration: Annotated[
        float | None,
        typer.Option(
            min=0, help="Stop after this many seconds (default: until Ctrl-C).", show_default=False
        ),
    ] = None,
    users: Annotated[
        int, typer.Option(min=1, max=MAX_USERS, help="Customers in the simulated shop.")
    ] = 1000,
    bootstrap_servers: BootstrapServersOption = None,
    topic: Annotated[str, typer.Option(help="Topic to produce to.")] = EVENTS_TOPIC,
    seed: Annotated[
        int | None,
        typer.Option(
            min=0,
            max=2**63 - 1,
            help="Random seed: the same seed replays the same visits and event ids.",
            show_default=False,
        ),
    ] = None,
    env: Annotated[str, typer.Option(help="Environment in cdk.json (topics).")] = "dev",
) -> None:
    """Produce live shop events, keyed by user, stamped with the time they are sent."""
    try:
        config_topics = load_config(env).streaming.topics
    except ConfigError as error:
        fail(str(error))
    try:
        settings = local_kafka_settings(bootstrap_servers)
        producer = open_producer(
            settings,
            config_topics,
            [topic],
            client_id="ecom-simulate",
            linger_ms=LINGER_MS,
            batch_size=BATCH_BYTES,
        )
    except KafkaUnavailableError as error:
        fail(str(error))
    seed = secrets.randbelow(2**63) if seed is None else seed
    traffic = LiveTraffic(users, seed, concurrent_visits_for(rate))
    simulator = EventSimulator(traffic, producer, topic)
    stop = threading.Event()

    def on_interrupt(signum: int, frame: object) -> None:
        stop.set()
        signal.signal(signal.SIGINT, signal.default_int_handler)  # a second Ctrl-C aborts

    previous = signal.signal(signal.SIGINT, on_interrupt)
    stderr.print(
        f"Producing {rate:,g} events/s to {topic} on {settings.bootstrap_servers} "
        f"({traffic.customers:,} customers, seed {seed}; Ctrl-C stops)",
        highlight=False,
    )
    try:
        simulator.run(
            rate,
            stop,
            duration,
            on_progress=lambda totals, recent: stderr.print(
                f"{totals.elapsed_s:7.1f} s  {recent:10,.1f} events/s  {_totals_line(totals)}",
                highlight=False,
            ),
        )
        stderr.print("Flushing ...")
        try:
            producer.flush(FLUSH_TIMEOUT_S)
        except ProducerError as error:
            stderr.print(f"[yellow]flush incomplete:[/yellow] {error}")
    finally:
        signal.signal(signal.SIGINT, previous)
        producer.close(FLUSH_TIMEOUT_S)
    totals = simulator.totals
    mean = totals.sent / totals.elapsed_s if totals.elapsed_s > 0 else 0.0
    stderr.print(f"Done in {totals.elapsed_s:.1f} s ({mean:,.1f} events/s): {_totals_line(totals)}")
    if totals.by_type:
        stderr.print(
            "By type: " + ", ".join(f"{k} {v:,}" for k, v in totals.by_type.most_common()),
            highlight=False,
        )
    if totals.failed or totals.acknowledged < totals.sent:
        raise typer.Exit(1)
