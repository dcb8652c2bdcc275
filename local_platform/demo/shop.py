"""Stage 1 of the demo, the shop: migrations, the synthetic store and its clickstream, then a
summary. `ecom generate` runs the same build on its own."""

from __future__ import annotations

from pathlib import Path

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
from local_platform.console import fail, stderr
from local_platform.demo.settings import DEMO_DATABASE, DemoSettings
from local_platform.errors import exit_when_unreachable


def run(settings: DemoSettings) -> None:
    """The stage: a fresh clickstream file every run; the store replaces data only when the
    settings allow it."""
    stderr.rule("[bold]Stage 1: the shop[/bold] (OLTP store and clickstream)")
    if settings.owns_database:
        stderr.print(f"Rebuilding the demo database {DEMO_DATABASE} on the embedded PostgreSQL.")
    settings.events_path.unlink(missing_ok=True)  # the demo's own output, rebuilt every run
    build_and_report(
        settings.generation, settings.database_url, settings.events_path, settings.replace
    )


def build_and_report(settings: GenerationSettings, url: str, events_out: Path, reset: bool) -> None:
    """Generate the store, then print its summary; failures become clear one-line errors."""
    with exit_when_unreachable(url):
        try:
            result = generate_store(settings, url, events_out=events_out, reset=reset)
            summary = summarize_store(url)
        except StoreNotEmptyError as error:
            fail(f"{error}. Nothing was written.")
        except MigrationError as error:
            fail(str(error))
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
    history = result.history_rows_per_table
    if history.get("orders"):
        figures.add_row(
            "before the window (history)",
            f"{history['orders']:,} orders, {history['support_tickets']:,} tickets",
        )
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
