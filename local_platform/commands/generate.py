"""`ecom generate`: the synthetic store into PostgreSQL, plus its clickstream file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from contracts.oltp.migrator import MigrationError
from data_generators import (
    GenerationResult,
    GenerationSettings,
    StoreNotEmptyError,
    StoreSummary,
    generate_store,
    summarize_store,
)
from data_generators.settings import MAX_DAYS, MAX_USERS
from local_platform.commands.db import DatabaseUrlOption
from local_platform.console import fail, stderr
from local_platform.embedded_postgres import resolve_database_url
from local_platform.errors import database_unreachable, redact_url

DEFAULT_EVENTS_PATH = (
    Path(__file__).resolve().parents[2] / ".local" / "clickstream" / "events.jsonl.gz"
)


def generate(
    users: Annotated[int, typer.Option(min=1, max=MAX_USERS, help="Customers to create.")] = 1000,
    days: Annotated[
        int, typer.Option(min=1, max=MAX_DAYS, help="Days of shop activity to simulate.")
    ] = 30,
    seed: Annotated[
        int, typer.Option(min=0, max=2**63 - 1, help="Random seed: same seed, same store.")
    ] = 42,
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
    settings = GenerationSettings(users=users, days=days, seed=seed)
    build_and_report(settings, resolve_database_url(database_url), events_out, reset)


def build_and_report(settings: GenerationSettings, url: str, events_out: Path, reset: bool) -> None:
    """Generate the store, then print its summary; failures become clear one-line errors."""
    try:
        result = generate_store(settings, url, events_out=events_out, reset=reset)
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


def summary_tables(result: GenerationResult, summary: StoreSummary) -> list[Table]:
    """Rows per table, events per type, and the store's headline figures."""
    rows = Table("table", "rows", title="PostgreSQL rows")
    for table, count in summary.rows_per_table.items():
        rows.add_row(table, f"{count:,}")
    events = Table("event type", "events", title=f"Events ({result.events_path or 'not written'})")
    for event_type, count in result.events_per_type.items():
        events.add_row(event_type, f"{count:,}")
    figures = Table("figure", "value", title=f"Store summary ({result.elapsed_seconds:.1f} s)")
    figures.add_row("gross revenue", f"${summary.gross_revenue:,.2f}")
    figures.add_row("refunded", f"${summary.refunded:,.2f}")
    figures.add_row("net revenue", f"${summary.net_revenue:,.2f}")
    figures.add_row("session-to-order conversion", f"{summary.session_to_order_conversion:.2%}")
    figures.add_row("cart abandonment", f"{summary.cart_abandonment_rate:.1%}")
    figures.add_row(
        "customers who churned",
        f"{summary.churned_customers:,} of {summary.customers:,} ({summary.churn_share:.1%})",
    )
    return [rows, events, figures]
