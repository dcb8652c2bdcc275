"""`ecom dashboards`: the QuickSight dashboards as a local, offline site (build) and a local
web server for it (serve)."""

from __future__ import annotations

import functools
import http.server
from pathlib import Path
from typing import Annotated

import typer

from local_platform.commands.options import DatabaseUrlOption
from local_platform.console import fail, stderr
from local_platform.dashboards.build import DEFAULT_SITE, build_with_progress
from local_platform.dashboards.site import INDEX
from local_platform.embedded_postgres import resolve_database_url
from local_platform.errors import exit_unless_reachable
from local_platform.local_warehouse import DEFAULT_WAREHOUSE
from quicksight_templates.loader import DefinitionError

app = typer.Typer(
    help="Dashboards: the QuickSight definitions rendered as a local HTML site.",
    no_args_is_help=True,
)

OutOption = Annotated[Path, typer.Option("--out", help="Folder of the site.")]


@app.command()
def build(
    out: OutOption = DEFAULT_SITE,
    warehouse: Annotated[Path, typer.Option(help="Local DuckDB warehouse file.")] = (
        DEFAULT_WAREHOUSE
    ),
    database_url: DatabaseUrlOption = None,
    live: Annotated[
        bool,
        typer.Option(help="Read the realtime tables from PostgreSQL for the real-time dashboard."),
    ] = True,
) -> None:
    """Run every dataset and write one page per dashboard, plus index.html."""
    url = None
    if live:
        url = resolve_database_url(database_url)
        exit_unless_reachable(url)
    try:
        site = build_with_progress(out, warehouse, url)
    except DefinitionError as error:
        fail(str(error))
    stderr.print(f"Dashboards: {len(site.pages)} pages", highlight=False)
    print(site.index)


@app.command()
def serve(
    out: OutOption = DEFAULT_SITE,
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port on 127.0.0.1.")] = 8050,
) -> None:
    """Serve a built site on 127.0.0.1 (Ctrl-C stops)."""
    if not (out / INDEX).is_file():
        fail(f"no dashboards site in {out}: run `ecom dashboards build` first")
    handler = functools.partial(_QuietHandler, directory=str(out))
    try:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    except OSError as error:
        fail(f"cannot listen on 127.0.0.1:{port}: {error.strerror}")
    stderr.print(f"Serving {out} at http://127.0.0.1:{port}/{INDEX} (Ctrl-C stops)")
    with server:
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            stderr.print("Stopped.")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        return
