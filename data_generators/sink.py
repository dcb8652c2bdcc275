"""Where generated data goes: PostgreSQL through COPY, events to JSON Lines.

Rows are buffered per table and flushed with COPY in bounded batches, tables in foreign-key
order. Events arrive per session (sessions start in time order but overlap), so the event
log keeps a small heap of pending lines and writes out every event older than the next
session's start: the file comes out in time order with only overlapping visits in memory.
"""

from __future__ import annotations

import gzip
import heapq
import os
from collections import Counter
from pathlib import Path
from typing import IO, Protocol

import orjson
import psycopg

# Column lists in foreign-key order: flushing in this order never breaks a reference.
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "users": (
        "id", "email", "first_name", "last_name", "country_code", "city", "acquisition_channel",
        "marketing_opt_in", "status", "signed_up_at", "created_at", "updated_at",
    ),
    "categories": ("id", "parent_id", "name", "slug", "created_at", "updated_at"),
    "products": (
        "id", "sku", "name", "category_id", "brand", "price", "cost", "status",
        "created_at", "updated_at",
    ),
    "sessions": (
        "id", "user_id", "anonymous_id", "channel", "device_type", "traffic_source",
        "landing_page", "exit_page", "referrer", "utm_source", "utm_medium", "utm_campaign",
        "page_views", "event_count", "started_at", "ended_at", "created_at", "updated_at",
    ),
    "carts": ("id", "user_id", "session_id", "status", "converted_at", "created_at", "updated_at"),
    "cart_items": ("cart_id", "product_id", "quantity", "unit_price", "created_at", "updated_at"),
    "orders": (
        "id", "user_id", "session_id", "cart_id", "status", "currency", "payment_method",
        "subtotal", "discount", "shipping", "tax", "total", "refunded_amount", "placed_at",
        "refunded_at", "created_at", "updated_at",
    ),
    "order_items": (
        "id", "order_id", "product_id", "quantity", "unit_price", "line_total",
        "created_at", "updated_at",
    ),
    "support_tickets": (
        "id", "user_id", "order_id", "category", "priority", "status", "subject",
        "satisfaction_score", "opened_at", "resolved_at", "created_at", "updated_at",
    ),
    "inventory_movements": (
        "id", "product_id", "quantity", "reason", "order_id", "occurred_at",
        "created_at", "updated_at",
    ),
    "inventory": (
        "product_id", "on_hand", "reorder_point", "reorder_quantity", "lead_time_days",
        "last_restocked_at", "created_at", "updated_at",
    ),
    "synthetic.customer_profiles": (
        "user_id", "persona", "churned", "churned_at", "created_at", "updated_at",
    ),
    "synthetic.customer_affinities": ("user_id", "category_id", "affinity_start", "affinity_end"),
    "synthetic.complement_pairs": ("product_id", "complement_product_id", "pattern"),
    "synthetic.consumable_categories": ("category_id", "repurchase_days"),
}  # fmt: skip


class RowSink(Protocol):
    """Where the generator's rows go: COPY batches in PostgreSQL, or a list in a test."""

    counts: Counter[str]

    def add(self, table: str, row: tuple) -> None: ...

    def extend(self, table: str, rows: list[tuple]) -> None: ...

    def flush(self) -> None: ...


class CopyBatches:
    """Row buffers per table, written with COPY whenever they hold `batch_rows` rows."""

    def __init__(self, conn: psycopg.Connection, batch_rows: int = 10_000) -> None:
        self._conn = conn
        self._batch_rows = batch_rows
        self._pending: dict[str, list[tuple]] = {table: [] for table in TABLE_COLUMNS}
        self._buffered = 0
        self.counts: Counter[str] = Counter()

    def add(self, table: str, row: tuple) -> None:
        self._pending[table].append(row)
        self._buffered += 1
        if self._buffered >= self._batch_rows:
            self.flush()

    def extend(self, table: str, rows: list[tuple]) -> None:
        self._pending[table].extend(rows)
        self._buffered += len(rows)
        if self._buffered >= self._batch_rows:
            self.flush()

    def flush(self) -> None:
        with self._conn.cursor() as cur:
            for table, rows in self._pending.items():
                if not rows:
                    continue
                columns = ", ".join(TABLE_COLUMNS[table])
                with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                self.counts[table] += len(rows)
                rows.clear()
        self._buffered = 0


class EventLog:
    """Time-ordered JSON Lines output (gzip when the name ends in .gz), plus counts per type.

    The file is written under a temporary name and only renamed into place by `publish`,
    so a failed run never leaves a half-written clickstream behind.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.counts: Counter[str] = Counter()
        self._heap: list[tuple[int, int, bytes]] = []
        self._sequence = 0
        self._out: list[bytes] = []
        self._file: IO[bytes] | None = None
        self._partial: Path | None = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._partial = path.with_name(f".{path.name}.partial")
            raw = open(self._partial, "wb")  # noqa: SIM115 - closed in close()/discard()
            if path.name.endswith(".gz"):
                # mtime=0 and no file name in the header: same seed, same bytes.
                self._file = gzip.GzipFile(
                    filename="", mode="wb", fileobj=raw, compresslevel=1, mtime=0
                )
                self._raw = raw
            else:
                self._file, self._raw = raw, None

    def add(self, occurred_ms: int, event: dict) -> None:
        self.counts[event["event_type"]] += 1
        if self._file is None:
            return
        self._sequence += 1
        heapq.heappush(self._heap, (occurred_ms, self._sequence, orjson.dumps(event)))

    def release_before(self, ms: int) -> None:
        """Write every pending event that happened before `ms` (no later session can precede it)."""
        heap, out = self._heap, self._out
        while heap and heap[0][0] < ms:
            out.append(heapq.heappop(heap)[2])
        if len(out) >= 5_000:
            self._write()

    def close(self) -> None:
        """Write what is left and close the temporary file."""
        if self._file is None:
            return
        self.release_before(2**63 - 1)
        self._write()
        self._file.close()
        if self._raw is not None:
            self._raw.close()

    def publish(self) -> None:
        if self._partial is not None and self.path is not None:
            os.replace(self._partial, self.path)

    def discard(self) -> None:
        if self._file is not None and not self._file.closed:
            self._file.close()
            if self._raw is not None:
                self._raw.close()
        if self._partial is not None:
            self._partial.unlink(missing_ok=True)

    def _write(self) -> None:
        if self._out:
            self._file.write(b"\n".join(self._out) + b"\n")
            self._out.clear()
