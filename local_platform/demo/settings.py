"""What every stage of one demo run shares."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from data_generators import GenerationSettings
from local_platform.paths import LOCAL_HOME

DEMO_DATABASE = "ecommerce_demo"
DEMO_HOME = LOCAL_HOME / "demo"
"""The demo's files (clickstream, lake, warehouse, model registry); `ecom ml` reads the same."""
# A year of orders before the window, so the models have history to learn churn and lifetime
# value from; it adds about a second to the shop stage at 1,000 customers (see
# docs/data_generation.md, "The history").
DEMO_HISTORY_DAYS = 365


@dataclass(frozen=True)
class DemoSettings:
    """owns_database: the demo made the database and rebuilds it every run; reset: the user
    allowed replacing the data in a database they named."""

    database_url: str
    owns_database: bool
    reset: bool
    workdir: Path
    generation: GenerationSettings

    @property
    def replace(self) -> bool:
        """Whether the stages may replace data already in the database."""
        return self.owns_database or self.reset

    @property
    def events_path(self) -> Path:
        """The clickstream the shop stage writes and the later stages read."""
        return self.workdir / "events.jsonl.gz"
