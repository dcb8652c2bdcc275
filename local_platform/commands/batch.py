"""`ecom batch run`: the batch analytics jobs on this machine, stage by stage, and the
demo's batch stage with its headline figures.

The pipeline needs pyspark (the `spark` extra); it is imported when a batch runs, so the rest
of `ecom` works without it.
"""

from __future__ import annotations

import shutil
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import duckdb
import typer
from rich.table import Table

from local_platform.analyst_queries import analyst_queries
from local_platform.commands.db import DatabaseUrlOption
from local_platform.commands.generate import DEFAULT_EVENTS_PATH
from local_platform.console import fail, stderr
from local_platform.embedded_postgres import resolve_database_url
from local_platform.errors import database_unreachable, redact_url
from local_platform.local_warehouse import DEFAULT_WAREHOUSE

if TYPE_CHECKING:
    from local_platform.batch_pipeline import BatchSettings, StageReport

app = typer.Typer(
    help="Batch analytics: the Glue jobs on local Spark, quality gates, a DuckDB warehouse.",
    no_args_is_help=True,
)
# The demo's headline figures: (query in docs/queries.md, title, rows shown).
HEADLINE_QUERIES = (
    ("revenue_by_week", "Revenue by week", 10),
    ("funnel_dropoffs", "Funnel and drop-offs", 5),
    ("segment_sizes", "Customer segments (RFM)", 8),
    ("stockout_risks", "Top stock-out risks", 5),
)


@app.command()
def run(
    database_url: DatabaseUrlOption = None,
    events: Annotated[
        Path,
        typer.Option(
            help="Clickstream: a JSON Lines file (.gz ok), a raw-zone folder of them, or the"
            " streaming job's raw table (raw/events_stream)."
        ),
    ] = DEFAULT_EVENTS_PATH,
    lake: Annotated[
        Path | None,
        typer.Option(
            help="Lake folder (raw, curated, marts, state). Default: .local/lake.",
            show_default=False,
        ),
    ] = None,
    warehouse: Annotated[Path, typer.Option(help="Local DuckDB warehouse file.")] = (
        DEFAULT_WAREHOUSE
    ),
    as_of: Annotated[
        datetime | None,
        typer.Option(
            formats=["%Y-%m-%d"],
            metavar="YYYY-MM-DD",
            help="Date the marts are computed as of. Default: the day after the shop's latest "
            "session or order.",
            show_default=False,
        ),
    ] = None,
    full: Annotated[
        bool,
        typer.Option("--full", help="Full snapshots of every table instead of incremental."),
    ] = False,
) -> None:
    """Extract -> curate -> marts -> quality -> load into the local warehouse."""
    from local_platform.batch_pipeline import DEFAULT_LAKE, BatchSettings

    if not events.exists():
        fail(f"no clickstream at {events}: run `ecom generate` or pass --events")
    settings = BatchSettings(
        database_url=resolve_database_url(database_url),
        events=events,
        lake=lake or DEFAULT_LAKE,
        warehouse=warehouse,
        as_of=as_of.date() if as_of else None,
        full_extract=full,
    )
    run_with_progress(settings)


def run_with_progress(settings: BatchSettings) -> None:
    """Run the pipeline printing each stage as it ends; failures become one clear message."""
    from glue_jobs.quality import QualityGateError
    from local_platform.batch_pipeline import run_batch

    stderr.print(f"Lake {settings.lake} · warehouse {settings.warehouse}", highlight=False)
    try:
        run_batch(settings, on_stage=_print_stage)
    except QualityGateError as error:
        fail(str(error))
    except Exception as error:
        if database_unreachable(error):
            fail(f"cannot reach the database at {redact_url(settings.database_url)}: {error}")
        raise


_STAGE_UNITS = {"quality": ("rules", "passed")}


def _print_stage(report: StageReport) -> None:
    unit_in, unit_out = _STAGE_UNITS.get(report.stage, ("rows in", "out"))
    stderr.print(
        f"[bold]{report.stage:<8}[/bold] {report.rows_in:>10,} {unit_in} → "
        f"{report.rows_out:,} {unit_out}  ({report.seconds:.1f} s)",
        highlight=False,
    )
    details = " · ".join(f"{name} {value:,}" for name, value in report.details.items())
    stderr.print(f"         [dim]{details}[/dim]", highlight=False, soft_wrap=True)


def demo_stage(database_url: str, events: Path, workdir: Path) -> None:
    """The demo's batch stage: a fresh lake and warehouse under `workdir` (the demo rebuilds
    its database every run, so earlier extracts would not match it), then the headlines."""
    from local_platform.batch_pipeline import BatchSettings

    lake, warehouse = workdir / "lake", workdir / "warehouse.duckdb"
    shutil.rmtree(lake, ignore_errors=True)
    warehouse.unlink(missing_ok=True)
    run_with_progress(
        BatchSettings(database_url=database_url, events=events, lake=lake, warehouse=warehouse)
    )
    for table in headline_tables(warehouse):
        stderr.print(table)


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, Decimal | float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def headline_tables(warehouse: Path) -> list[Table]:
    """The headline queries' results from the local warehouse, as printable tables."""
    queries = analyst_queries()
    tables = []
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        for name, title, shown in HEADLINE_QUERIES:
            cursor = connection.execute(queries[name])
            columns = [column[0] for column in cursor.description]
            rows = cursor.fetchall()
            more = f" (first {shown} of {len(rows):,})" if len(rows) > shown else ""
            table = Table(*columns, title=title + more)
            for row in rows[:shown]:
                table.add_row(*[_cell(value) for value in row])
            tables.append(table)
    return tables
