"""`ecom generate`: the synthetic store into PostgreSQL, plus its clickstream file (the
demo's shop stage, on its own)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from data_generators import GenerationSettings
from data_generators.settings import MAX_DAYS, MAX_USERS
from local_platform.commands.options import (
    DEFAULT_EVENTS_PATH,
    DatabaseUrlOption,
    HistoryDaysOption,
)
from local_platform.demo.shop import build_and_report
from local_platform.embedded_postgres import resolve_database_url


def generate(
    users: Annotated[int, typer.Option(min=1, max=MAX_USERS, help="Customers to create.")] = 1000,
    days: Annotated[
        int, typer.Option(min=1, max=MAX_DAYS, help="Days of shop activity to simulate.")
    ] = 30,
    seed: Annotated[
        int, typer.Option(min=0, max=2**63 - 1, help="Random seed: same seed, same store.")
    ] = 42,
    history_days: HistoryDaysOption = 0,
    database_url: DatabaseUrlOption = None,
    events_out: Annotated[
        Path,
        typer.Option(help="Clickstream as JSON Lines; gzip when the name ends in .gz."),
    ] = DEFAULT_EVENTS_PATH,
    reset: Annotated[
        bool,
        typer.Option("--reset", help="Replace existing generated data and events file."),
    ] = False,
) -> None:
    """Generate a synthetic shop (customers, catalog, orders, tickets) and its clickstream."""
    settings = GenerationSettings(users=users, days=days, seed=seed, history_days=history_days)
    build_and_report(settings, resolve_database_url(database_url), events_out, reset)
