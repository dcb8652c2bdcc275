"""Build the local dashboards site with progress: load and check the definitions, run every
dataset, write the pages. `ecom dashboards build` and the demo's dashboards stage run this."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from local_platform.console import stderr
from local_platform.dashboards.datasets import DatasetRows, run_datasets
from local_platform.dashboards.site import INDEX, WrittenPage, write_site
from local_platform.paths import LOCAL_HOME
from quicksight_templates.loader import load_definitions

DEFAULT_SITE = LOCAL_HOME / "dashboards"


@dataclass(frozen=True)
class BuiltSite:
    index: Path
    pages: list[WrittenPage]
    rows: dict[str, DatasetRows]


def build_with_progress(out_dir: Path, warehouse: Path, database_url: str | None) -> BuiltSite:
    """The whole site under out_dir; DefinitionError when a definition is wrong."""
    definitions = load_definitions()
    dataset_ids = list(definitions.datasets)
    dashboards = list(definitions.dashboards.values())
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[current]}"),
        TimeElapsedColumn(),
        console=stderr,
    ) as progress:
        running = progress.add_task("Datasets", total=len(dataset_ids), current="")

        def dataset_done(dataset_id: str, rows: DatasetRows) -> None:
            progress.update(running, advance=1, current=f"{dataset_id}: {len(rows.rows):,} rows")

        rows = run_datasets(definitions, dataset_ids, warehouse, database_url, dataset_done)
        writing = progress.add_task("Pages", total=len(dashboards), current="")

        def page_done(page: WrittenPage) -> None:
            progress.update(writing, advance=1, current=f"{page.path.name}: {page.bytes:,} bytes")

        pages = write_site(definitions, rows, out_dir, _source(warehouse, database_url), page_done)
    for dataset_id, result in rows.items():
        if not result.rows and result.note:
            stderr.print(f"[yellow]{dataset_id}:[/yellow] {result.note}", highlight=False)
    return BuiltSite(out_dir / INDEX, pages, rows)


def _source(warehouse: Path, database_url: str | None) -> str:
    live = "the realtime tables" if database_url else "no live database"
    return f"the warehouse {warehouse} and {live}"
