"""`ecom db ...`: the embedded PostgreSQL and the OLTP migrations."""

from __future__ import annotations

from typing import Annotated

import typer

from contracts.oltp.migrator import MigrationError, apply_migrations
from local_platform.commands.options import DatabaseUrlOption
from local_platform.console import fail, stderr
from local_platform.embedded_postgres import (
    EmbeddedPostgres,
    EmbeddedPostgresError,
    resolve_database_url,
)
from local_platform.errors import database_unreachable, redact_url

app = typer.Typer(help="The OLTP database: embedded server and migrations.", no_args_is_help=True)


@app.command()
def up(
    print_url: Annotated[bool, typer.Option(help="Print only the URL (for scripts).")] = False,
) -> None:
    """Start the embedded PostgreSQL (or find it running)."""
    try:
        url = EmbeddedPostgres().start()
    except EmbeddedPostgresError as error:
        fail(f"could not start the embedded PostgreSQL: {error}")
    if print_url:
        print(url)
    else:
        stderr.print(f"Embedded PostgreSQL running: [bold]{url}[/bold]")


@app.command()
def down() -> None:
    """Stop the embedded PostgreSQL; its data stays in .local/postgres."""
    try:
        stopped = EmbeddedPostgres().stop()
    except EmbeddedPostgresError as error:
        fail(f"could not stop the embedded PostgreSQL: {error}")
    stderr.print("Stopped." if stopped else "The embedded PostgreSQL was not running.")


@app.command()
def migrate(database_url: DatabaseUrlOption = None) -> None:
    """Apply pending OLTP migrations (contracts/oltp/migrations); a re-run changes nothing."""
    url = resolve_database_url(database_url)
    try:
        applied = apply_migrations(url, on_apply=lambda m: stderr.print(f"  applying {m.filename}"))
    except MigrationError as error:
        fail(f"{error}\nNothing was applied; the database is as it was before this run.")
    except Exception as error:
        if database_unreachable(error):
            fail(f"cannot reach the database at {redact_url(url)}: {error}")
        raise
    if applied:
        stderr.print(f"Applied {len(applied)} migration(s).")
    else:
        stderr.print("Database schema is up to date; nothing to apply.")
