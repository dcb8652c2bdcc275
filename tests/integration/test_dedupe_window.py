"""The dedupe window on a real PostgreSQL: ids older than the window are forgotten, at most
once per FORGET_EVERY, by one batch at a time; ids inside it still stop redeliveries."""

from __future__ import annotations

import itertools
import uuid
from typing import Any

import psycopg
import pytest
from stream_events import START, Visitor, encode, make_event

from lambdas.stream_processor import store
from lambdas.stream_processor.processor import BatchResult, ProcessorSettings, process_records
from lambdas.stream_processor.records import SourceRecord

pytestmark = pytest.mark.integration

WINDOW_HOURS = 72
SETTINGS = ProcessorSettings(cart_abandonment_minutes=30, dedupe_window_hours=WINDOW_HOURS)
VISITOR = Visitor(str(uuid.uuid4()), str(uuid.uuid4()), 7)
_offsets = itertools.count()


def page_view() -> dict[str, Any]:
    return make_event("page_viewed", START, VISITOR, {"page_type": "home", "path": "/"})


def deliver(conn: psycopg.Connection, *events: dict[str, Any]) -> BatchResult:
    records = [SourceRecord("events", 0, next(_offsets), 0, b"7", encode(e)) for e in events]
    return process_records(conn, records, SETTINGS)


def remembered(conn: psycopg.Connection) -> set[str]:
    rows = conn.execute("SELECT event_id::text FROM realtime.processed_events").fetchall()
    return {row[0] for row in rows}


def processed_hours_ago(conn: psycopg.Connection, event: dict[str, Any], hours: float) -> None:
    conn.execute(
        "UPDATE realtime.processed_events SET processed_at = now() - make_interval(secs => %s)"
        " WHERE event_id = %s",
        (hours * 3600, event["event_id"]),
    )


def last_forgotten_minutes_ago(conn: psycopg.Connection, minutes: float) -> None:
    conn.execute(
        "UPDATE realtime.housekeeping SET last_run_at = now() - make_interval(secs => %s)"
        " WHERE task = 'forget_processed_events'",
        (minutes * 60,),
    )


def test_ids_older_than_the_window_are_forgotten_every_five_minutes(realtime_conn) -> None:
    old, older, recent = page_view(), page_view(), page_view()
    assert deliver(realtime_conn, old, older, recent).counted == 3
    processed_hours_ago(realtime_conn, old, WINDOW_HOURS + 0.1)
    processed_hours_ago(realtime_conn, older, WINDOW_HOURS + 5)
    processed_hours_ago(realtime_conn, recent, WINDOW_HOURS - 0.1)

    # The first batch took the turn a moment ago: the next one leaves the ids alone.
    second = page_view()
    deliver(realtime_conn, second)
    assert remembered(realtime_conn) == {e["event_id"] for e in (old, older, recent, second)}

    last_forgotten_minutes_ago(realtime_conn, 5.1)
    third = page_view()
    deliver(realtime_conn, third)
    assert remembered(realtime_conn) == {e["event_id"] for e in (recent, second, third)}

    # Inside the window a redelivery is still a duplicate; beyond it, the id is new again.
    again = deliver(realtime_conn, recent, old)
    assert (again.counted, again.duplicates) == (1, 1)


def test_one_processor_forgets_while_the_others_skip_without_waiting(
    migrated_database: str,
) -> None:
    with (
        psycopg.connect(migrated_database, autocommit=True) as first,
        psycopg.connect(migrated_database, autocommit=True) as second,
    ):
        last_forgotten_minutes_ago(first, 10)
        with first.transaction():
            assert store.forget_processed_events(first, WINDOW_HOURS) == 0  # its turn, holds it
            second.execute("SET lock_timeout = '1s'")  # waiting would fail the call
            assert store.forget_processed_events(second, WINDOW_HOURS) is None
        # After the first committed, the turn is taken for the next five minutes.
        assert store.forget_processed_events(second, WINDOW_HOURS) is None
