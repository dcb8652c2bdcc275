"""`ecom demo`: the whole local pipeline, stage by stage, on embedded defaults.

The stages live in local_platform/demo (shop, real time, batch analytics); this command only
reads the options.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from data_generators import GenerationSettings
from local_platform.commands.options import DatabaseUrlOption, HistoryDaysOption
from local_platform.demo.pipeline import run_demo
from local_platform.demo.settings import DEMO_HISTORY_DAYS, DEMO_HOME


def demo(
    database_url: DatabaseUrlOption = None,
    users: Annotated[int, typer.Option(min=1, max=100_000, help="Customers to create.")] = 1000,
    days: Annotated[int, typer.Option(min=1, max=365, help="Days to simulate.")] = 30,
    seed: Annotated[int, typer.Option(min=0, help="Random seed.")] = 42,
    history_days: HistoryDaysOption = DEMO_HISTORY_DAYS,
    reset: Annotated[
        bool, typer.Option("--reset", help="Replace the data in a database you named.")
    ] = False,
    workdir: Annotated[
        Path, typer.Option(help="Folder for the demo's files (clickstream, lake, warehouse).")
    ] = DEMO_HOME,
) -> None:
    """Run the local pipeline end to end and print what it found."""
    generation = GenerationSettings(users=users, days=days, seed=seed, history_days=history_days)
    run_demo(database_url, generation, workdir, reset=reset)
