"""`ecom demo`: the whole local pipeline, stage by stage, on embedded defaults.

Stage 1 builds the shop: migrations, then the synthetic store and its clickstream, then a
summary. With no database given, the demo owns a database of its own (`ecommerce_demo` on the
embedded server) and rebuilds it on every run; a database the user names is never replaced
unless they pass --reset.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from contracts.oltp.migrator import MigrationError
from data_generators import GenerationSettings, StoreNotEmptyError, generate_store, summarize_store
from local_platform.commands.db import DatabaseUrlOption
from local_platform.commands.generate import summary_tables
from local_platform.console import fail, stderr
from local_platform.embedded_postgres import EmbeddedPostgres, EmbeddedPostgresError
from local_platform.errors import database_unreachable, redact_url

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
) -> None:
    """Run the local pipeline end to end and print what it found."""
    url, owned = _demo_database(database_url)
    events_path = DEMO_HOME / "events.jsonl.gz"
    stderr.rule("[bold]Stage 1: the shop[/bold] (OLTP store and clickstream)")
    if owned:
        stderr.print(f"Rebuilding the demo database {DEMO_DATABASE} on the embedded PostgreSQL.")
    events_path.unlink(missing_ok=True)  # the demo's own output, rebuilt every run
    try:
        result = generate_store(
            GenerationSettings(users=users, days=days, seed=seed),
            url,
            events_out=events_path,
            reset=owned or reset,
        )
        summary = summarize_store(url)
    except StoreNotEmptyError as error:
        fail(f"{error}. Nothing was written.")
    except MigrationError as error:
        fail(str(error))
    except Exception as error:
        if database_unreachable(error):
            fail(f"cannot reach the database at {redact_url(url)}: {error}")
        raise
    for table in summary_tables(result, summary):
        stderr.print(table)


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
