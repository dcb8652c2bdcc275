"""A generated shop kept in memory (rows per table, the clickstream in a file), and the same
shop as the Spark frames the recommendation transforms read: the OLTP columns they use and
the events with the curated columns they use."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession

from data_generators import GenerationSettings
from data_generators.sink import TABLE_COLUMNS, EventLog
from data_generators.store import StoreRun

EVENT_SCHEMA = (
    "event_type string, occurred_at timestamp, user_id bigint, session_id string, "
    "properties struct<product_id: bigint>"
)


class MemoryRows:
    """A row sink that keeps every row in memory, per table."""

    def __init__(self) -> None:
        self.tables: dict[str, list[tuple]] = defaultdict(list)
        self.counts: Counter[str] = Counter()

    def add(self, table: str, row: tuple) -> None:
        self.extend(table, [row])

    def extend(self, table: str, rows: list[tuple]) -> None:
        self.tables[table].extend(rows)
        self.counts[table] += len(rows)

    def flush(self) -> None:
        """Nothing to write: rows are kept as they come."""


@dataclass(frozen=True)
class ShopFrames:
    run: StoreRun
    tables: dict[str, list[tuple]]
    events: DataFrame
    orders: DataFrame
    order_items: DataFrame
    products: DataFrame


def _columns(table: str, rows: list[tuple], names: tuple[str, ...]) -> list[tuple]:
    positions = [TABLE_COLUMNS[table].index(name) for name in names]
    return [tuple(row[i] for i in positions) for row in rows]


def _instant(text: str) -> datetime:
    """The generator's ISO 8601 UTC text as a naive UTC datetime (the tests pin TZ=UTC)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).replace(tzinfo=None)


def shop_frames(spark: SparkSession, settings: GenerationSettings, folder: Path) -> ShopFrames:
    """Generate the shop (clickstream to `folder`) and read it as Spark frames."""
    rows = MemoryRows()
    path = folder / "events.jsonl"
    log = EventLog(path)
    run = StoreRun(settings, rows, log)
    run.run(progress=False)
    log.close()
    log.publish()
    tables = rows.tables
    orders = [
        (order_id, user_id, status, _instant(placed_at))
        for order_id, user_id, status, placed_at in _columns(
            "orders", tables["orders"], ("id", "user_id", "status", "placed_at")
        )
    ]
    return ShopFrames(
        run=run,
        tables=tables,
        events=spark.read.schema(EVENT_SCHEMA).json(str(path)).cache(),
        orders=spark.createDataFrame(
            orders, "id bigint, user_id bigint, status string, placed_at timestamp"
        ),
        order_items=spark.createDataFrame(
            _columns("order_items", tables["order_items"], ("order_id", "product_id")),
            "order_id bigint, product_id bigint",
        ),
        products=spark.createDataFrame(
            _columns("products", tables["products"], ("id", "category_id", "status")),
            "id bigint, category_id bigint, status string",
        ),
    )
