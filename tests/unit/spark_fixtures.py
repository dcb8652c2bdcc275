"""Builders for the small hand-made frames the Spark transform tests use."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.types import DateType, DecimalType, TimestampType

# The curated event columns the downstream transforms read (a subset of the curated table).
CURATED_EVENT_SCHEMA = (
    "event_id string, event_type string, occurred_at timestamp, user_id bigint, "
    "anonymous_id string, session_id string, channel string, device_type string, "
    "traffic_source string, page_path string, "
    "properties struct<page_type: string, product_id: bigint, cart_id: string, order_id: bigint, "
    "items: array<struct<product_id: bigint, quantity: bigint, "
    "unit_price: decimal(18,2), line_total: decimal(18,2)>>>"
)
EVENT_COLUMNS = (
    "event_id", "event_type", "occurred_at", "user_id", "anonymous_id", "session_id",
    "channel", "device_type", "traffic_source", "page_path", "properties",
)  # fmt: skip
# Ids for raw events that must pass the contract (lowercase canonical UUIDs).
VISITOR_ID = "11111111-1111-4111-8111-111111111111"
SESSION_ID = "22222222-2222-4222-8222-222222222222"
EVENT_DEFAULTS: dict[str, Any] = {
    "event_type": "page_viewed",
    "user_id": None,
    "anonymous_id": "visitor-a",
    "session_id": None,
    "channel": "web",
    "device_type": "desktop",
    "traffic_source": "direct",
    "page_path": None,
    "properties": None,
}


def utc(text: str) -> datetime:
    """'2026-10-01 10:00[:ss]' as a naive datetime, read as UTC (the `spark` fixture pins the
    process time zone, which PySpark uses to convert naive datetimes both ways)."""
    return datetime.fromisoformat(text)


def day(text: str) -> date:
    return date.fromisoformat(text)


def events_frame(spark: SparkSession, rows: list[dict[str, Any]]) -> DataFrame:
    """Curated events from dicts holding event_id, occurred_at ('YYYY-MM-DD HH:MM[:SS]')
    and whatever differs from EVENT_DEFAULTS; `properties` is a dict of the subset above."""
    records = []
    for row in rows:
        record = {**EVENT_DEFAULTS, **row, "occurred_at": utc(row["occurred_at"])}
        props = record["properties"] or {}
        record["properties"] = {
            key: props.get(key)
            for key in ("page_type", "product_id", "cart_id", "order_id", "items")
        }
        records.append(tuple(record[name] for name in EVENT_COLUMNS))
    return spark.createDataFrame(records, CURATED_EVENT_SCHEMA)


def table(spark: SparkSession, schema: str, rows: list[tuple[Any, ...]]) -> DataFrame:
    """A frame from tuples written the short way: timestamps as 'YYYY-MM-DD HH:MM', dates as
    'YYYY-MM-DD', money as numbers or strings (converted to exact decimals)."""
    struct = spark.createDataFrame([], schema).schema
    converters = []
    for field in struct.fields:
        if isinstance(field.dataType, TimestampType):
            converters.append(utc)
        elif isinstance(field.dataType, DateType):
            converters.append(day)
        elif isinstance(field.dataType, DecimalType):
            converters.append(lambda value: Decimal(str(value)))
        else:
            converters.append(lambda value: value)
    records = [
        tuple(
            None if value is None else convert(value)
            for convert, value in zip(converters, row, strict=True)
        )
        for row in rows
    ]
    return spark.createDataFrame(records, struct)


def raw_event(event_id: str, occurred_at: str, path: str = "/home", **overrides: Any) -> str:
    """One raw line: a valid page_viewed event per the contract, with envelope overrides."""
    event = {
        "event_id": event_id,
        "event_type": "page_viewed",
        "schema_version": "1.0",
        "occurred_at": occurred_at,
        "user_id": None,
        "anonymous_id": VISITOR_ID,
        "session_id": SESSION_ID,
        "context": {
            "channel": "web",
            "device": {"type": "mobile", "os": "Android", "browser": "Chrome"},
            "page": {"path": path, "title": None},
            "referrer": None,
            "utm": {"source": "news", "medium": "email", "campaign": None},
            "traffic_source": "email",
        },
        "properties": {"page_type": "other", "path": path},
        **overrides,
    }
    return json.dumps(event)
