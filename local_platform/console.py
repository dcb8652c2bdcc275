"""Shared terminal output: progress and messages go to stderr so stdout stays for data."""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console

stderr = Console(stderr=True)


def fail(message: str, code: int = 1) -> NoReturn:
    """Print a clear error and exit non-zero (no traceback: the message says what to fix)."""
    stderr.print(f"[bold red]error:[/bold red] {message}", highlight=False)
    raise typer.Exit(code)
