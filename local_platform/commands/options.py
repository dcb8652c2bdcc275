"""Options and defaults that several `ecom` commands share, declared once so their names,
help and defaults stay the same everywhere."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from data_generators.population import SIGNUP_LOOKBACK_DAYS
from local_platform.console import fail
from local_platform.errors import redact_url, unparsable_database_url
from local_platform.paths import LOCAL_HOME

DEFAULT_EVENTS_PATH = LOCAL_HOME / "clickstream" / "events.jsonl.gz"


def _check_database_url(explicit: str | None) -> str | None:
    """Refuse a URL libpq cannot parse (given, or from DATABASE_URL) before any work starts."""
    source, url = (
        ("--database-url", explicit)
        if explicit
        else ("DATABASE_URL", os.environ.get("DATABASE_URL"))
    )
    if url and (problem := unparsable_database_url(url)):
        fail(f"{source} is not a PostgreSQL URL ({redact_url(url)}): {problem}")
    return explicit


DatabaseUrlOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="PostgreSQL URL. Default: $DATABASE_URL, else the embedded server.",
        show_default=False,
        callback=_check_database_url,
    ),
]
HistoryDaysOption = Annotated[
    int,
    typer.Option(
        min=0,
        max=SIGNUP_LOOKBACK_DAYS,
        help="Days of shop history before the window: orders and tickets, no clickstream.",
    ),
]
BootstrapServersOption = Annotated[
    str | None,
    typer.Option(
        "--bootstrap-servers",
        help="HOST:PORT. Default: $KAFKA_BOOTSTRAP_SERVERS, else the local broker.",
        show_default=False,
    ),
]
