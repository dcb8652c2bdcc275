"""The command behind every generated page of docs/: render it, write it, say where."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path


def write_page(
    render: Callable[[], str], default: Path, description: str, argv: list[str] | None = None
) -> None:
    """Write render()'s page to `default`, or to the path given with --output."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--output", type=Path, default=default)
    output = parser.parse_args(argv).output
    output.write_text(render(), encoding="utf-8")
    print(f"wrote {output}")
