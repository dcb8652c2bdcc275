"""`ecom demo`: the whole local pipeline, stage by stage, on embedded defaults.

Stage 1 builds the shop: migrations, then the synthetic store and its clickstream, then a
summary. Stage 2 streams that clickstream through the stream processor (in process, or through
the broker named by KAFKA_BOOTSTRAP_SERVERS) and shows the live metrics of the last hour.
Stage 3 runs the batch analytics jobs on local Spark (extract, curate, marts, quality gates)
into a lake and a DuckDB warehouse under the workdir, and prints the headline figures.

With no database given, the demo owns a database of its own (`ecommerce_demo` on the
embedded server) and rebuilds it on every run; a database the user names is never replaced
unless they pass --reset.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from data_generators import GenerationSettings
from local_platform.commands import batch
from local_platform.commands.db import DatabaseUrlOption
from local_platform.commands.generate import build_and_report
from local_platform.console import fail, stderr
from local_platform.embedded_postgres import EmbeddedPostgres, EmbeddedPostgresError
from local_platform.kafka_publishing import KafkaUnavailableError
from local_platform.realtime_stage import render, run_realtime_stage

DEMO_DATABASE = "ecommerce_demo"
DEMO_HOME = Path(__file__).resolve().parents[2] / ".local" / "demo"


def demo(
    database_url: DatabaseUrlOption = None,
    users: Annotated[int, typer.Option(min=1, max=100_000, help="Customers to create.")] = 1000,
    days: Annotated[int, typer.Option(min=1, max=365, help="Days to simulate.")] = 30,
    seed: Annotated[int, typer.Option(min=0, help="Random seed.")] = 42,
    reset: Annotated[
        bool, typer.Option("--reset", help="Replace the data in a database you named.")
    ] = False,
    workdir: Annotated[
        Path, typer.Option(help="Folder for the demo's files (clickstream, lake, warehouse).")
    ] = DEMO_HOME,
) -> None:
    """Run the local pipeline end to end and print what it found."""
    url, owned = _demo_database(database_url)
    workdir.mkdir(parents=True, exist_ok=True)
    events_path = workdir / "events.jsonl.gz"
    stderr.rule("[bold]Stage 1: the shop[/bold] (OLTP store and clickstream)")
    if owned:
        stderr.print(f"Rebuilding the demo database {DEMO_DATABASE} on the embedded PostgreSQL.")
    events_path.unlink(missing_ok=True)  # the demo's own output, rebuilt every run
    build_and_report(
        GenerationSettings(users=users, days=days, seed=seed), url, events_path, owned or reset
    )

    bootstrap_servers = os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or None
    route = f"through Kafka at {bootstrap_servers}" if bootstrap_servers else "in process"
    stderr.rule(f"[bold]Stage 2: real time[/bold] (stream processor, {route})")
    try:
        report = run_realtime_stage(
            url, events_path, bootstrap_servers=bootstrap_servers, reset=owned or reset
        )
    except KafkaUnavailableError as error:
        fail(f"{error}. Unset KAFKA_BOOTSTRAP_SERVERS to run this stage in process.")
    for renderable in render(report):
        stderr.print(renderable)

    stderr.rule("[bold]Stage 3: batch analytics[/bold] (Spark jobs, quality gates, warehouse)")
    batch.demo_stage(url, events_path, workdir)


def _demo_database(explicit: str | None) -> tuple[str, bool]:
    """(url, whether the demo owns it and may rebuild it)."""
    given = explicit or os.environ.get("DATABASE_URL")
    if given:
        return given, False
    try:
        stderr.print("Starting the embedded PostgreSQL ...")
        return EmbeddedPostgres().start(database=DEMO_DATABASE), True
    except EmbeddedPostgresError as error:
        fail(f"could not start the embedded PostgreSQL: {error}")
