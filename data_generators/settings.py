"""What a generation run is asked to do and what it reports back."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from data_generators.population import SIGNUP_LOOKBACK_DAYS

MAX_USERS = 10_000_000
MAX_DAYS = 3650
# The simulated window ends here (exclusive) unless a start date is given, so two runs with
# the same settings produce the same timestamps whatever day they run on.
DEFAULT_WINDOW_END = date(2026, 10, 1)


class GenerationSettings(BaseModel):
    """Size, seed and calendar window of one synthetic store."""

    model_config = ConfigDict(frozen=True)

    users: int = Field(ge=1, le=MAX_USERS)
    days: int = Field(ge=1, le=MAX_DAYS)
    seed: int = Field(default=42, ge=0, le=2**63 - 1)
    start_date: date
    # Days before the window whose customers' orders and tickets are simulated (OLTP rows
    # only, no clickstream); at most the sign-up lookback, since nobody signed up earlier.
    history_days: int = Field(default=0, ge=0, le=SIGNUP_LOOKBACK_DAYS)

    @model_validator(mode="before")
    @classmethod
    def _default_start_date(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("start_date") is None and "days" in data:
            data = {**data, "start_date": DEFAULT_WINDOW_END - timedelta(days=int(data["days"]))}
        return data

    @property
    def end_date(self) -> date:
        """First day after the window."""
        return self.start_date + timedelta(days=self.days)

    @property
    def history_start_date(self) -> date:
        """First day of the simulated history (the window's first day when there is none)."""
        return self.start_date - timedelta(days=self.history_days)


class GenerationResult(BaseModel):
    """Counts of what one run wrote, for the summary and the benchmark."""

    rows_per_table: dict[str, int]
    # Of those rows, the ones dated before the window (orders, order_items, support_tickets).
    history_rows_per_table: dict[str, int]
    events_per_type: dict[str, int]
    events_path: Path | None
    elapsed_seconds: float
