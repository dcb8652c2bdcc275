"""Stage 5 of the demo, dashboards: the QuickSight definitions rendered over what the earlier
stages built (the demo's warehouse, scores and realtime tables) as a local site; the path of
its index page is printed last, to open in a browser."""

from __future__ import annotations

from local_platform.console import stderr
from local_platform.dashboards.build import build_with_progress
from local_platform.demo.settings import DemoSettings

SITE_FOLDER = "dashboards"


def run(settings: DemoSettings) -> None:
    """Build the site under the demo's workdir and print where its index page is."""
    stderr.rule("[bold]Stage 5: dashboards[/bold] (the QuickSight definitions as a local site)")
    site = build_with_progress(
        settings.workdir / SITE_FOLDER, settings.workdir / "warehouse.duckdb", settings.database_url
    )
    weight = max(page.bytes for page in site.pages)
    stderr.print(
        f"{len(site.pages)} dashboards, largest page {weight / 1_000_000:.1f} MB. Open:",
        highlight=False,
    )
    print(site.index)
