"""Curation's outcome for every line is the contract validator's, line for line.

The job checks lines in Arrow batches and reads event ids and times with Spark's JSON reader
before its dedupe; here each line's expected outcome and reason are computed in plain Python
from `parse_event` alone (the validator every runtime uses), on a corpus holding every
rejection the contract names, raw poison (bytes, encodings, numbers, nesting) and
hypothesis-generated events, valid and corrupted.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyspark.sql import functions as sf
from test_event_contract import JSON_VALUES, REJECTIONS, example, valid_events

from contracts.events.validator import MAX_EVENT_BYTES, parse_event
from glue_jobs.transforms.event_schema import spark_event_schema
from glue_jobs.transforms.events import (
    ACCEPTED,
    BAD_JSON,
    DUPLICATE,
    SCHEMA_VIOLATION,
    TOO_LATE,
    classify_raw_events,
)

RECEIVED = datetime(2026, 10, 2, 9, 30)
Verdict = tuple[bytes, str, str | None]


def expected_verdicts(lines: list[bytes], oldest_accepted: datetime | None) -> Counter[Verdict]:
    """(line, outcome, detail) per line, from the validator and the curation rules as the
    docs state them: rejected lines keep the validator's reasons; a valid event that occurred
    before `oldest_accepted` is too late; of the rest, per event id, the first copy (all are
    received at once here, so the smallest line) is accepted and the others are duplicates."""
    verdicts: Counter[Verdict] = Counter()
    competing: dict[str, list[bytes]] = {}
    for line in lines:
        event, reasons = parse_event(line)
        if reasons:
            outcome = BAD_JSON if event is None else SCHEMA_VIOLATION
            verdicts[(line, outcome, "; ".join(reasons))] += 1
            continue
        assert event is not None
        occurred = dt.datetime.fromisoformat(event["occurred_at"])
        if oldest_accepted is not None and occurred < oldest_accepted:
            verdicts[(line, TOO_LATE, f"occurred before {oldest_accepted.isoformat()}")] += 1
            continue
        competing.setdefault(event["event_id"], []).append(line)
    for copies in competing.values():
        first, *others = sorted(copies)
        verdicts[(first, ACCEPTED, None)] += 1
        for other in others:
            verdicts[(other, DUPLICATE, None)] += 1
    return verdicts


def curated_verdicts(
    spark, tmp_path, lines: list[bytes], watermark: datetime | None, lateness: timedelta
) -> tuple[Counter[Verdict], dict[bytes, Any]]:
    """What classify_raw_events says of `lines` landed as one file (read as the job reads
    it), and the parsed event of each accepted line."""
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    raw = spark.read.text(str(path)).select("value", sf.lit(RECEIVED).alias("received_at"))
    classified = classify_raw_events(
        raw, event_schema=spark_event_schema(), watermark=watermark, allowed_lateness=lateness
    )
    rows = classified.select(
        sf.col("value").cast("binary").alias("line"), "outcome", "detail", "event"
    ).collect()
    verdicts = Counter((bytes(row.line), row.outcome, row.detail) for row in rows)
    events = {bytes(row.line): row.event for row in rows if row.outcome == ACCEPTED}
    return verdicts, events


def _valid(event_type: str, **changes: Any) -> dict[str, Any]:
    event = example(event_type)
    event.update(changes)
    return event


PAGE_VIEW = orjson.dumps(example("page_viewed"))
ORDER = orjson.dumps(example("order_completed"))
SEARCH_ID = "0f6c7e62-3a55-4d7e-9a0b-3a2f8f1b9c41"


def poison_corpus() -> list[bytes]:
    """Every rejection the contract test names, plus raw poison and edge cases that are valid."""
    lines = []
    for _, event_type, mutate, _ in REJECTIONS:
        event = example(event_type)
        mutate(event)
        lines.append(orjson.dumps(event))
    oversize = example("page_viewed")
    oversize["context"]["page"]["title"] = "t" * MAX_EVENT_BYTES
    lines += [
        b"",
        b"   ",
        b'{"event_id": ',  # truncated
        b"{'event_id': 1}",  # not JSON quotes
        b'{"a": NaN}',
        b'{"a": 1} {"b": 2}',  # two values on one line
        b"[1, 2]",
        b'"event"',
        b"12.5",
        b"null",
        b'{"user_id": 1e400}',  # past the range of a double
        PAGE_VIEW.replace(b'"Thank', b'"\xffThank').replace(b"Home", b"H\xffome"),  # bad UTF-8
        PAGE_VIEW.replace(b"Home", b"\xed\xa0\x80"),  # a surrogate as raw bytes
        PAGE_VIEW.replace(b"Home", b"\\ud800"),  # an unpaired surrogate escaped
        PAGE_VIEW.replace(b"Home", b"\\u0000"),  # NUL, escaped: valid
        PAGE_VIEW.replace(b'"page_viewed"', b'"page\\u005fviewed"'),  # escapes: valid
        orjson.dumps(oversize),
        b"[" * 300 + b"]" * 300,  # deep nesting
        json.dumps(_valid("page_viewed", user_id=7)).encode(),  # spaces after separators
        json.dumps(_valid("product_searched", event_id=SEARCH_ID), indent=None).encode(),
        ORDER,
        ORDER,  # after the watermark too: a duplicate either way
        ORDER.replace(b'"total":144.83', b'"total":144.84'),  # amounts do not add up
        ORDER.replace(b'"total":144.83', b'"total":144.834'),  # not a whole cent
        _valid_bytes("order_refunded", user_id=None),  # needs a signed-in user
        _valid_bytes("page_viewed", occurred_at="2026-02-30T10:00:00Z"),  # no such day
        _valid_bytes("page_viewed", occurred_at="2026-10-01T10:00:00.123456789Z"),
    ]
    # The same event twice, byte for byte, and a third copy that differs: one accepted.
    lines += [PAGE_VIEW, PAGE_VIEW, PAGE_VIEW.replace(b'"title":"Home"', b'"title":"Start"')]
    # A repeated key: the validator reads its last value, as the job must for the dedupe.
    lines.append(b'{"event_id":"' + SEARCH_ID.encode() + b'",' + PAGE_VIEW[1:])
    return lines


def _valid_bytes(event_type: str, **changes: Any) -> bytes:
    return orjson.dumps(_valid(event_type, **changes))


@pytest.mark.parametrize(
    "watermark",
    [
        pytest.param(None, id="no watermark"),
        # The page view example occurred at 12:30:02 on 2026-10-01: too late for this one.
        pytest.param(datetime(2026, 10, 1, 14, 31, tzinfo=UTC), id="watermark"),
    ],
)
def test_poison_corpus_gets_the_validators_outcome_for_every_line(
    spark, tmp_path, watermark: datetime | None
) -> None:
    lines = poison_corpus()
    lateness = timedelta(hours=2)
    oldest = watermark - lateness if watermark else None
    verdicts, events = curated_verdicts(spark, tmp_path, lines, watermark, lateness)
    assert verdicts == expected_verdicts(lines, oldest)
    outcomes = {outcome for _, outcome, _ in verdicts}
    assert outcomes == {ACCEPTED, DUPLICATE, BAD_JSON, SCHEMA_VIOLATION} | (
        {TOO_LATE} if watermark else set()
    )
    for line, event in events.items():
        assert event.event_id == orjson.loads(line)["event_id"]


def _paths(value: Any, prefix: tuple = ()) -> Iterator[tuple]:
    """Every key and list index of an event, at any depth."""
    children = value.items() if isinstance(value, dict) else enumerate(value)
    for key, child in children:
        yield (*prefix, key)
        if isinstance(child, dict | list):
            yield from _paths(child, (*prefix, key))


@st.composite
def event_lines(draw: st.DrawFn) -> bytes:
    """A generated valid event, often with one value replaced by arbitrary JSON (or an
    unpaired surrogate), serialized as a producer might: compact, spaced or ASCII-escaped."""
    event = draw(valid_events())
    if draw(st.booleans()):
        path = draw(st.sampled_from(list(_paths(event))))
        target = event
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = draw(JSON_VALUES | st.sampled_from(["\ud800", "x\udfff", "\x00"]))
    style = draw(st.sampled_from(["orjson", "spaced", "ascii"]))
    if style == "orjson":
        try:
            return orjson.dumps(event)
        except TypeError:  # orjson refuses unpaired surrogates
            style = "spaced"
    return json.dumps(event, ensure_ascii=style == "ascii").encode("utf-8", "surrogatepass")


LINES = st.lists(event_lines() | st.binary(max_size=80), min_size=20, max_size=60).map(
    lambda lines: [line for line in lines if b"\n" not in line and b"\r" not in line]
)


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(lines=LINES, repeats=st.integers(min_value=1, max_value=3))
def test_generated_lines_get_the_validators_outcome(spark, tmp_path_factory, lines, repeats):
    lines = lines + lines[:repeats]  # some lines arrive again
    tmp_path = tmp_path_factory.mktemp("generated")
    verdicts, _ = curated_verdicts(spark, tmp_path, lines, None, timedelta(hours=48))
    assert verdicts == expected_verdicts(lines, None)
