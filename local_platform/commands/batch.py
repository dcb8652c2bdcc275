"""`ecom batch run`: the batch analytics jobs on this machine, stage by stage (the demo's
batch stage, on any lake and warehouse).

The pipeline needs pyspark (the `spark` extra); it is imported when a batch runs, so the rest
of `ecom` works without it.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from local_platform.commands.options import DEFAULT_EVENTS_PATH, DatabaseUrlOption
from local_platform.console import fail
from local_platform.demo.batch import run_with_progress
from local_platform.embedded_postgres import resolve_database_url
from local_platform.errors import exit_unless_reachable
from local_platform.local_warehouse import DEFAULT_WAREHOUSE

app = typer.Typer(
    help="Batch analytics: the Glue jobs on local Spark, quality gates, a DuckDB warehouse.",
    no_args_is_help=True,
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
    full_curation: Annotated[
        bool,
        typer.Option(
            "--full-curation",
            help="Re-curate every raw event line instead of only the files not curated yet.",
        ),
    ] = False,
) -> None:
    """Extract -> curate -> marts -> quality -> load into the local warehouse."""
    from local_platform.batch_pipeline import DEFAULT_LAKE, BatchSettings

    if not events.exists():
        fail(f"no clickstream at {events}: run `ecom generate` or pass --events")
    url = resolve_database_url(database_url)
    exit_unless_reachable(url)
    settings = BatchSettings(
        database_url=url,
        events=events,
        lake=lake or DEFAULT_LAKE,
        warehouse=warehouse,
        as_of=as_of.date() if as_of else None,
        full_extract=full,
        full_curation=full_curation,
    )
    run_with_progress(settings)
