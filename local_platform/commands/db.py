"""`ecom db ...`: the embedded PostgreSQL and the OLTP migrations."""

from __future__ import annotations

from typing import Annotated

import typer

from contracts.oltp.migrator import MigrationError, apply_migrations
from local_platform.commands.options import DatabaseUrlOption
from local_platform.commands.servers import start_server, stop_server
from local_platform.console import fail, stderr
from local_platform.embedded_postgres import (
    EmbeddedPostgres,
    EmbeddedPostgresError,
    resolve_database_url,
)
from local_platform.errors import exit_when_unreachable

SERVER = "the embedded PostgreSQL"
app = typer.Typer(help="The OLTP database: embedded server and migrations.", no_args_is_help=True)


@app.command()
def up(
    print_url: Annotated[bool, typer.Option(help="Print only the URL (for scripts).")] = False,
) -> None:
    """Start the embedded PostgreSQL (or find it running)."""
    url = start_server(EmbeddedPostgres().start, EmbeddedPostgresError, SERVER)
    if print_url:
        print(url)
    else:
        stderr.print(f"Embedded PostgreSQL running: [bold]{url}[/bold]")


@app.command()
def down() -> None:
    """Stop the embedded PostgreSQL; its data stays in .local/postgres."""
    stop_server(EmbeddedPostgres().stop, EmbeddedPostgresError, SERVER)


@app.command()
def migrate(database_url: DatabaseUrlOption = None) -> None:
    """Apply pending OLTP migrations (contracts/oltp/migrations); a re-run changes nothing."""
    url = resolve_database_url(database_url)
    with exit_when_unreachable(url):
        try:
            applied = apply_migrations(
                url, on_apply=lambda m: stderr.print(f"  applying {m.filename}")
            )
        except MigrationError as error:
            fail(f"{error}\nNothing was applied; the database is as it was before this run.")
    if applied:
        stderr.print(f"Applied {len(applied)} migration(s).")
    else:
        stderr.print("Database schema is up to date; nothing to apply.")
