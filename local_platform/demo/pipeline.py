"""The demo's stages in order, and the database the demo runs on.

With no database given, the demo owns a database of its own (`ecommerce_demo` on the embedded
server) and rebuilds it on every run; a database the user names is never replaced unless they
pass --reset.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from data_generators import GenerationSettings
from local_platform.console import fail, stderr
from local_platform.demo import batch, dashboards, ml, realtime, recommendations, shop
from local_platform.demo.settings import DEMO_DATABASE, DemoSettings
from local_platform.embedded_postgres import EmbeddedPostgres, EmbeddedPostgresError

STAGES: tuple[Callable[[DemoSettings], None], ...] = (
    shop.run,
    realtime.run,
    batch.run,
    ml.run,
    recommendations.run,
    dashboards.run,
)


def run_demo(
    database_url: str | None, generation: GenerationSettings, workdir: Path, *, reset: bool
) -> None:
    """Every stage, in order, on one database and one workdir."""
    url, owned = _demo_database(database_url)
    workdir.mkdir(parents=True, exist_ok=True)
    settings = DemoSettings(url, owned, reset, workdir, generation)
    seconds: dict[str, float] = {}
    for stage in STAGES:
        started = time.perf_counter()
        stage(settings)
        name = stage_name(stage)
        seconds[name] = time.perf_counter() - started
        stderr.print(f"[dim]{name} stage: {seconds[name]:.1f} s[/dim]")
    timings = " · ".join(f"{name} {value:.1f}" for name, value in seconds.items())
    stderr.print(f"Demo done in {sum(seconds.values()):.1f} s ({timings} s)", highlight=False)


def stage_name(stage: Callable[[DemoSettings], None]) -> str:
    """A stage by its module's name (shop, realtime, batch, ...)."""
    return stage.__module__.rsplit(".", 1)[-1]


def _demo_database(explicit: str | None) -> tuple[str, bool]:
    """(url, whether the demo owns it and may rebuild it)."""
    given = explicit or os.environ.get("DATABASE_URL")
    if given:
        return given, False
    try:
        stderr.print("Starting the embedded PostgreSQL ...")
        return EmbeddedPostgres().start(database=DEMO_DATABASE), True
    except EmbeddedPostgresError as error:
        fail(f"could not start the embedded PostgreSQL: {error}")
