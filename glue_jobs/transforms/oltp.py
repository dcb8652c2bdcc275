"""The OLTP tables the extract job copies, the SQL it sends to PostgreSQL, and how the raw
zone's extract batches become each table's current state.

Every extract lands as one batch (partition `extract_batch`) of the rows whose `updated_at`
moved past the table's watermark: `full` for a snapshot, `after-<watermark>` for an
incremental batch. An incremental read starts a look-back before the watermark, because
`updated_at` is stamped when a transaction starts and a long one commits rows older than a
watermark taken meanwhile; the versions re-read that way and already copied are left out.
A row updated twice appears in two batches; its current version is the one with the latest
`updated_at`. The shop never deletes rows (statuses say what ended), so
the union of batches, latest version per key, is the table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as sf

BATCH_COLUMN = "extract_batch"
FULL_BATCH = "full"
# Timestamps cross from PostgreSQL as text in UTC, so no client time zone can shift them.
_UTC_TEXT = '\'YYYY-MM-DD"T"HH24:MI:SS.US"Z"\''
_TIMESTAMP_TEXT = "'YYYY-MM-DD HH24:MI:SS.US'"


@dataclass(frozen=True)
class SourceTable:
    """A public-schema table: its key, and the column parallel reads split on (a numeric id,
    or a timestamp where the key is a UUID)."""

    name: str
    keys: tuple[str, ...]
    split_column: str
    split_is_time: bool = False


SOURCE_TABLES: tuple[SourceTable, ...] = (
    SourceTable("users", ("id",), "id"),
    SourceTable("categories", ("id",), "id"),
    SourceTable("products", ("id",), "id"),
    SourceTable("inventory", ("product_id",), "product_id"),
    SourceTable("inventory_movements", ("id",), "id"),
    SourceTable("sessions", ("id",), "started_at", split_is_time=True),
    SourceTable("carts", ("id",), "created_at", split_is_time=True),
    SourceTable("cart_items", ("cart_id", "product_id"), "product_id"),
    SourceTable("orders", ("id",), "id"),
    SourceTable("order_items", ("id",), "id"),
    SourceTable("support_tickets", ("id",), "id"),
)
SOURCE_TABLE_BY_NAME = {table.name: table for table in SOURCE_TABLES}


def _timestamp_literal(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("watermarks must be timezone-aware")
    return f"TIMESTAMPTZ '{moment.astimezone(UTC).isoformat()}'"


def _changed_since(since: datetime | None) -> str:
    return "TRUE" if since is None else f"updated_at > {_timestamp_literal(since)}"


def bounds_query(tables: Sequence[SourceTable], since: Mapping[str, datetime | None]) -> str:
    """One row per table: the new watermark (`through`, the latest updated_at), its row count
    (`total`), how many rows changed after its watermark, and their split-column range."""
    selects = []
    for table in tables:
        changed = _changed_since(since.get(table.name))
        split_range = []
        for aggregate in ("min", "max"):
            value = f"({aggregate}({table.split_column}) FILTER (WHERE {changed}))"
            split_range.append(
                f"to_char({value} AT TIME ZONE 'UTC', {_TIMESTAMP_TEXT})"
                if table.split_is_time
                else f"{value}::text"
            )
        selects.append(
            f"SELECT '{table.name}' AS table_name, "  # noqa: S608 identifiers from the source table contract
            f"to_char(max(updated_at) AT TIME ZONE 'UTC', {_UTC_TEXT}) AS through, "
            f"count(*) AS total, count(*) FILTER (WHERE {changed}) AS changed, "
            f"{split_range[0]} AS split_low, {split_range[1]} AS split_high FROM {table.name}"
        )
    return "\nUNION ALL\n".join(selects)


def changes_query(table: SourceTable, since: datetime | None, through: datetime | None) -> str:
    """The rows of one batch, as a subquery Spark's JDBC reader can split further. `through`
    (the watermark the bounds query saw) keeps rows changed meanwhile for the next batch."""
    upto = "TRUE" if through is None else f"updated_at <= {_timestamp_literal(through)}"
    return f"(SELECT * FROM {table.name} WHERE {_changed_since(since)} AND {upto}) AS changes"  # noqa: S608 contract identifiers, timestamps formatted


def read_after(watermark: datetime | None, lookback: timedelta) -> datetime | None:
    """Where an incremental read starts: `lookback` before the watermark (None: a snapshot)."""
    return None if watermark is None else watermark - lookback


def new_versions(batch: DataFrame, published: DataFrame, keys: Sequence[str]) -> DataFrame:
    """The rows of `batch` whose version (key and updated_at) `published` does not hold yet,
    so that what the look-back re-reads is not copied twice."""
    version = [*keys, "updated_at"]
    return batch.join(published.select(*version), version, "left_anti")


def batch_name(since: datetime | None) -> str:
    """The extract_batch value: `full`, or `after-` and the watermark the batch starts from
    (a re-run from the same watermark replaces the same batch)."""
    if since is None:
        return FULL_BATCH
    return "after-" + since.astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def parse_utc(text: str) -> datetime:
    """A `...Z` timestamp from the bounds query as an aware datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def read_partitions(changed_rows: int, rows_per_partition: int, max_partitions: int) -> int:
    """How many parallel JDBC reads a batch gets: one per `rows_per_partition` rows, capped."""
    needed = -(-changed_rows // rows_per_partition)
    return max(1, min(max_partitions, needed))


def latest_versions(batches: DataFrame, keys: Sequence[str]) -> DataFrame:
    """The current state of a table from its extract batches: per key, the row with the
    latest updated_at, without the batch column. Rows with equal keys and updated_at are the
    same version; ordering by batch too only makes the pick deterministic."""
    newest_first = Window.partitionBy(*keys).orderBy(
        sf.col("updated_at").desc(), sf.col(BATCH_COLUMN).desc()
    )
    return (
        batches.withColumn("_version", sf.row_number().over(newest_first))
        .filter(sf.col("_version") == 1)
        .drop("_version", BATCH_COLUMN)
    )
