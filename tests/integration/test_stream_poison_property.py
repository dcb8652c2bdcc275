"""Any bytes at all as record values: each record is counted or dead-lettered, the batch commits.

Hypothesis feeds arbitrary byte strings and events with a hostile value (NUL, unpaired
surrogates, numbers past a double, deep nesting) in any field through the real processor into
a real PostgreSQL. Examples share one database; offsets and event ids never repeat, so each
example's rows are its own.
"""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from stream_events import shopping_sessions

from lambdas.stream_processor.processor import ProcessorSettings, process_records
from lambdas.stream_processor.records import SourceRecord

pytestmark = pytest.mark.integration

SETTINGS = ProcessorSettings(cart_abandonment_minutes=30, dedupe_window_hours=72)
TOPIC = "ecommerce.events.v1"
# One event of each shape the simulator emits; each example copies them with fresh ids.
TEMPLATES = {event["event_type"]: event for event in shopping_sessions(40, seed=23)}
_offsets = itertools.count()

HOSTILE_TEXT = st.one_of(
    st.sampled_from(["\x00", "a\x00b", "\ud800", "x\udfff", "\ufeff", "\u2028", "'); --", ""]),
    st.text(st.characters(codec=None, categories=None), max_size=20),
    st.uuids().map(lambda u: f"{u}\x00"),
)
HOSTILE_NUMBER = st.one_of(
    st.sampled_from([10**400, -(10**400), 2**63, 2**64, -(2**63) - 1, 1e308, 5e-324, -0.0]),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
)


def _nested(depth: int) -> Any:
    value: Any = 1
    for level in range(depth):
        value = [value] if level % 2 else {"n": value}
    return value


LEAVES = st.one_of(st.none(), st.booleans(), HOSTILE_NUMBER, HOSTILE_TEXT)
HOSTILE_VALUE = st.one_of(
    LEAVES,
    st.recursive(
        LEAVES,
        lambda children: (
            st.lists(children, max_size=4) | st.dictionaries(HOSTILE_TEXT, children, max_size=4)
        ),
        max_leaves=12,
    ),
    st.integers(min_value=1, max_value=600).map(_nested),
)


def _paths(value: Any, prefix: tuple = ()) -> Iterator[tuple]:
    """Every place in an event a value can be put: each key and list item, at any depth."""
    if isinstance(value, dict):
        for key, child in value.items():
            yield (*prefix, key)
            yield from _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield (*prefix, index)
            yield from _paths(child, (*prefix, index))


def _with_value(event: dict[str, Any], path: tuple, value: Any) -> dict[str, Any]:
    copy = json.loads(json.dumps(event))
    target = copy
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return copy


def _encode(event: Any, ascii_only: bool) -> bytes:
    """JSON as a producer might write it: unpaired surrogates escaped or as raw (invalid) UTF-8."""
    return json.dumps(event, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")


@st.composite
def hostile_events(draw: st.DrawFn) -> bytes:
    event = dict(TEMPLATES[draw(st.sampled_from(sorted(TEMPLATES)))])
    event["event_id"] = str(uuid.uuid4())
    # The identity fields are the ones a dead letter stores as text: try them most often.
    path = draw(
        st.sampled_from([("event_id",), ("event_type",)])
        | st.sampled_from([*_paths(event), ("unexpected",)])
    )
    hostile = _with_value(event, path, draw(HOSTILE_VALUE))
    return _encode(hostile, draw(st.booleans()))


RECORD_VALUES = st.one_of(st.binary(max_size=300), hostile_events(), st.none())


def _valid_event() -> bytes:
    event = dict(TEMPLATES["product_viewed"], event_id=str(uuid.uuid4()))
    return json.dumps(event).encode()


def _with_nul(field: str) -> bytes:
    event = dict(TEMPLATES["page_viewed"], event_id=str(uuid.uuid4()))
    event[field] = f"{event[field]}\x00"
    return json.dumps(event).encode()


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(values=st.lists(RECORD_VALUES, min_size=1, max_size=6))
@example(values=[_with_nul("event_id")])
@example(values=[_with_nul("event_type")])
def test_any_record_value_is_counted_or_dead_lettered_and_the_batch_commits(
    realtime_conn: psycopg.Connection, values: list[bytes | None]
) -> None:
    # A valid event behind the hostile ones: it must be counted, not blocked.
    values = [*values, _valid_event()]
    records = [SourceRecord(TOPIC, 0, next(_offsets), 0, b"key", value) for value in values]

    result = process_records(realtime_conn, records, SETTINGS)

    offsets = [record.offset for record in records]
    counted = {
        offset
        for (offset,) in realtime_conn.execute(
            "SELECT source_offset FROM realtime.processed_events WHERE source_offset = ANY(%s)",
            (offsets,),
        )
    }
    dead = {
        offset
        for (offset,) in realtime_conn.execute(
            "SELECT source_offset FROM realtime.dead_letters WHERE source_offset = ANY(%s)",
            (offsets,),
        )
    }
    assert counted.isdisjoint(dead)
    assert counted | dead == set(offsets)
    assert offsets[-1] in counted
    assert (result.received, result.counted, result.dead_lettered, result.duplicates) == (
        len(records),
        len(counted),
        len(dead),
        0,
    )
