"""Options and defaults that several `ecom` commands share, declared once so their names,
help and defaults stay the same everywhere."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from data_generators.population import SIGNUP_LOOKBACK_DAYS

DEFAULT_EVENTS_PATH = (
    Path(__file__).resolve().parents[2] / ".local" / "clickstream" / "events.jsonl.gz"
)

DatabaseUrlOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="PostgreSQL URL. Default: $DATABASE_URL, else the embedded server.",
        show_default=False,
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
