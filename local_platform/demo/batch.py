"""Stage 3 of the demo, batch analytics: the Glue jobs on local Spark (extract, curate, marts),
the quality gates and the DuckDB warehouse load, printed stage by stage, then the answers to
the analysts' headline questions. `ecom batch run` runs the same pipeline with its progress.

The pipeline needs pyspark (the `spark` extra); it is imported when a batch runs, so the rest
of `ecom` works without it.
"""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
from rich.table import Table

from contracts.warehouse.queries import analyst_queries
from local_platform.console import fail, stderr
from local_platform.demo.settings import DemoSettings
from local_platform.errors import exit_when_unreachable

if TYPE_CHECKING:
    from local_platform.batch_pipeline import BatchSettings, StageReport

# The demo's headline figures: (analyst query, title, rows shown).
HEADLINE_QUERIES = (
    ("revenue_by_week", "Revenue by week", 10),
    ("funnel_dropoffs", "Funnel and drop-offs", 5),
    ("segment_sizes", "Customer segments (RFM)", 8),
    ("stockout_risks", "Top stock-out risks", 5),
)
_STAGE_UNITS = {"quality": ("rules", "passed")}
DEMO_HOLDOUT_DAYS = 7
"""The recommendations' holdout the demo's next stage reports (the ETL workflow's too)."""


def run(settings: DemoSettings) -> None:
    """The stage: a fresh lake and warehouse under the workdir (the demo rebuilds its
    database every run, so earlier extracts would not match it), then the headlines."""
    from local_platform.batch_pipeline import BatchSettings

    stderr.rule("[bold]Stage 3: batch analytics[/bold] (Spark jobs, quality gates, warehouse)")
    lake, warehouse = settings.workdir / "lake", settings.workdir / "warehouse.duckdb"
    shutil.rmtree(lake, ignore_errors=True)
    warehouse.unlink(missing_ok=True)
    run_with_progress(
        BatchSettings(
            database_url=settings.database_url,
            events=settings.events_path,
            lake=lake,
            warehouse=warehouse,
            holdout_days=DEMO_HOLDOUT_DAYS,
        )
    )
    for table in headline_tables(warehouse):
        stderr.print(table)


def run_with_progress(settings: BatchSettings) -> None:
    """Run the pipeline printing each stage as it ends; failures become one clear message."""
    from glue_jobs.quality import QualityGateError
    from local_platform.batch_pipeline import run_batch

    stderr.print(f"Lake {settings.lake} · warehouse {settings.warehouse}", highlight=False)
    if settings.side_by_side:
        stderr.print(
            "[dim]extract runs beside curate, then marts beside recommendations: "
            "the seconds of each pair overlap[/dim]",
            highlight=False,
        )
    with exit_when_unreachable(settings.database_url):
        try:
            run_batch(settings, on_stage=_print_stage)
        except QualityGateError as error:
            fail(str(error))


def _print_stage(report: StageReport) -> None:
    unit_in, unit_out = _STAGE_UNITS.get(report.stage, ("rows in", "out"))
    stderr.print(
        f"[bold]{report.stage:<8}[/bold] {report.rows_in:>10,} {unit_in} → "
        f"{report.rows_out:,} {unit_out}  ({report.seconds:.1f} s)",
        highlight=False,
    )
    details = " · ".join(f"{name} {value:,}" for name, value in report.details.items())
    stderr.print(f"         [dim]{details}[/dim]", highlight=False, soft_wrap=True)


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


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, Decimal | float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)
