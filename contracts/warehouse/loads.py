"""The warehouse tables loaded from the lake, and where each one's Parquet lives: every mart of
contracts/marts.yaml (marts zone) and the ML scores (curated zone). Redshift's load
(glue_jobs/load_warehouse.py) and the local DuckDB warehouse (local_platform) walk this one
list, so a table added here is loaded in both places.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from contracts.lake import CUSTOMER_SCORES, CUSTOMER_SCORES_PARTITION, Lake, table_path
from contracts.marts import marts
from contracts.warehouse.tables import WarehouseTable, customer_scores_table

SCORES_RELOADED_DAYS = 7
"""A load copies the scores' newest days only: a re-scored recent day is replaced, older days
stay as loaded (a day is scored once a day; history older than a week does not change)."""


@dataclass(frozen=True)
class WarehouseLoad:
    """One warehouse table and the lake folder it is loaded from."""

    table: WarehouseTable
    zone: str
    folder: str
    partition: str | None
    """The partition column (a date, in the S3 path); None: the table is replaced whole."""
    latest_partitions: int | None = None
    """Load only the newest this many partitions; None: every partition."""

    def location(self, zone_root: str) -> str:
        """The table's folder under its zone's root (an S3 URI or a local folder)."""
        return table_path(zone_root, self.folder)

    def lake_folder(self, lake: Lake) -> str:
        return self.location(getattr(lake, self.zone))

    def chosen_partitions(self, values: list[str]) -> list[str]:
        """The partition values a load copies, out of those present (dates, any order)."""
        ordered = sorted(values)
        return ordered if self.latest_partitions is None else ordered[-self.latest_partitions :]


@cache
def warehouse_loads() -> dict[str, WarehouseLoad]:
    """Every loaded table by name: the marts in build order, then the scores."""
    loads = {
        name: WarehouseLoad(mart.table, "marts", name, mart.partition)
        for name, mart in marts().items()
    }
    loads[CUSTOMER_SCORES] = WarehouseLoad(
        customer_scores_table(),
        "curated",
        CUSTOMER_SCORES,
        CUSTOMER_SCORES_PARTITION,
        latest_partitions=SCORES_RELOADED_DAYS,
    )
    return loads
