"""Shared terminal output: progress and messages go to stderr so stdout stays for data."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

stderr = Console(stderr=True)


def fail(message: str, code: int = 1) -> NoReturn:
    """Print a clear error and exit non-zero (no traceback: the message says what to fix)."""
    stderr.print(f"[bold red]error:[/bold red] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


@contextmanager
def event_progress() -> Iterator[Progress]:
    """Progress bars whose tasks carry an `events` field, counted beside the bar."""
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[events]:,} events"),
        TimeElapsedColumn(),
        console=stderr,
    ) as progress:
        yield progress
