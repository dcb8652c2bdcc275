"""Event curation on hand-written raw lines: duplicates, a late event, bad JSON, a contract
violation, and lines whose bytes are odd (bad UTF-8, empty, oversized). The contract check is
the real validator."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from pyspark.sql import functions as sf
from spark_fixtures import SESSION_ID, raw_event, utc

from contracts.events.validator import parse_event
from glue_jobs.transforms.event_schema import spark_event_schema
from glue_jobs.transforms.events import (
    ACCEPTED,
    BAD_JSON,
    classify_raw_events,
    curated_events,
    curation_counts,
    quarantined_events,
)

E1 = "00000000-0000-4000-8000-000000000001"
E2 = "00000000-0000-4000-8000-000000000002"
E3 = "00000000-0000-4000-8000-000000000003"
E4 = "00000000-0000-4000-8000-000000000004"
E5 = "00000000-0000-4000-8000-000000000005"
CART = "33333333-3333-4333-8333-333333333333"

# Watermark 12:00 with 2 hours of allowed lateness: events before 10:00 are too late.
WATERMARK = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)
LATENESS = timedelta(hours=2)


RAW_LINES = [
    # E1 at exactly watermark - lateness (10:00): accepted; its re-send 4 s later: duplicate.
    (raw_event(E1, "2026-10-01T10:00:00Z"), "2026-10-01 10:00:05"),
    (raw_event(E1, "2026-10-01T10:00:00Z"), "2026-10-01 10:00:09"),
    # E2 arrives twice; the copy listed second was received first (10:01 < 10:05): it wins.
    (raw_event(E2, "2026-10-01T11:00:00.250Z", path="/late-copy"), "2026-10-01 11:05:00"),
    (raw_event(E2, "2026-10-01T11:00:00.250Z", path="/first-copy"), "2026-10-01 11:01:00"),
    # E3 occurred at 09:30, 30 minutes before the oldest accepted time: too late.
    (raw_event(E3, "2026-10-01T09:30:00Z"), "2026-10-01 11:59:00"),
    # E5's first copy is too late; the later, timely copy is accepted, not a duplicate.
    (raw_event(E5, "2026-10-01T09:00:00Z"), "2026-10-01 11:00:00"),
    (raw_event(E5, "2026-10-01T11:30:00Z"), "2026-10-01 11:40:00"),
    # Truncated line: bad JSON.
    ('{"event_id": "' + E4 + '", "event_type": ', "2026-10-01 11:10:00"),
    # Quantity 0 breaks the contract's minimum of 1: schema violation.
    (
        raw_event(
            E4,
            "2026-10-01T11:10:00Z",
            event_type="product_added_to_cart",
            properties={"cart_id": CART, "product_id": 5, "quantity": 0, "unit_price": 9.99,
                        "currency": "USD"},
        ),
        "2026-10-01 11:10:01",
    ),
]  # fmt: skip


@pytest.fixture
def classified(spark):
    raw = spark.createDataFrame(
        [(value, utc(received)) for value, received in RAW_LINES],
        "value string, received_at timestamp",
    )
    return classify_raw_events(
        raw, event_schema=spark_event_schema(), watermark=WATERMARK, allowed_lateness=LATENESS
    )


def test_counts_cover_every_line_once(classified) -> None:
    counts = curation_counts(classified).collect()[0].asDict()
    # 9 lines = 3 accepted (E1, E2, E5) + 2 duplicates (E1 re-send, E2 later copy)
    #           + 1 bad JSON + 1 schema violation + 2 too late (E3, E5's first copy)
    assert counts == {
        "received": 9,
        "accepted": 3,
        "duplicate": 2,
        "bad_json": 1,
        "schema_violation": 1,
        "too_late": 2,
    }


def test_curated_keeps_earliest_received_copy_flattened(classified) -> None:
    rows = {r.event_id: r for r in curated_events(classified).collect()}
    assert set(rows) == {E1, E2, E5}
    assert rows[E5].occurred_at == utc("2026-10-01 11:30")  # the timely copy
    e2 = rows[E2]
    assert e2.page_path == "/first-copy"  # received 11:01, before the 11:05 copy
    assert e2.received_at == utc("2026-10-01 11:01:00")
    assert e2.occurred_at == utc("2026-10-01 11:00:00.250")
    assert str(e2.event_date) == "2026-10-01"
    assert (e2.channel, e2.device_type, e2.device_os, e2.traffic_source) == (
        "web", "mobile", "Android", "email",
    )  # fmt: skip
    assert (e2.utm_source, e2.utm_campaign, e2.session_id) == ("news", None, SESSION_ID)
    assert e2.properties.path == "/first-copy"
    assert e2.properties.quantity is None  # a page view has no quantity


def test_quarantine_keeps_line_and_reason(classified) -> None:
    rows = sorted(quarantined_events(classified).collect(), key=lambda r: (r.reason, r.event_id))
    assert [(r.reason, r.event_id) for r in rows] == [
        ("bad_json", None),  # truncated: no event_id can be read from it
        ("schema_violation", E4),
        ("too_late", E3),
        ("too_late", E5),
    ]
    assert rows[0].detail.startswith("payload: is not valid JSON")
    assert rows[1].detail.startswith("properties.quantity:")
    assert rows[2].detail == "occurred before 2026-10-01T10:00:00+00:00"
    assert rows[2].raw_event == RAW_LINES[4][0]


def _titled_line(event_id: str, title: str) -> bytes:
    """A valid page view whose page title is `title`, as raw UTF-8 (no \\u escapes)."""
    event = json.loads(raw_event(event_id, "2026-10-01T11:00:00Z"))
    event["context"]["page"]["title"] = title
    return json.dumps(event, ensure_ascii=False).encode()


CAFE = _titled_line(E1, "Café – Überblick")
ODD_LINES = {
    CAFE: ACCEPTED,  # multi-byte UTF-8 is fine
    CAFE.replace("é".encode(), b"\xff").replace(E1.encode(), E2.encode()): BAD_JSON,
    CAFE.replace("Ü".encode(), "Ü".encode()[:1]).replace(E1.encode(), E3.encode()): BAD_JSON,
    b"": BAD_JSON,
    b"   ": BAD_JSON,
    _titled_line(E4, "t" * 40_000): BAD_JSON,  # over the contract's size limit
}


@pytest.fixture
def odd_lines_file(tmp_path):
    """ODD_LINES as a landing file: the job reads lines with spark.read.text, as here."""
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"\n".join(ODD_LINES) + b"\n")
    return str(path)


def _classified_by_line(spark, path, **check) -> dict[bytes, tuple[str, str | None]]:
    raw = spark.read.text(path).select(
        "value", sf.lit(utc("2026-10-01 12:00")).alias("received_at")
    )
    classified = classify_raw_events(
        raw, event_schema=spark_event_schema(), watermark=None, allowed_lateness=LATENESS, **check
    )
    rows = classified.select(sf.col("value").cast("binary").alias("line"), "outcome", "detail")
    return {bytes(row.line): (row.outcome, row.detail) for row in rows.collect()}


def test_odd_lines_get_the_validators_verdict_on_their_bytes(spark, odd_lines_file) -> None:
    by_line = _classified_by_line(spark, odd_lines_file)
    assert set(by_line) == set(ODD_LINES)
    for line, outcome in ODD_LINES.items():
        reasons = parse_event(line)[1]
        assert by_line[line] == (outcome, "; ".join(reasons) if reasons else None), line[:60]
    # Bad UTF-8 is named as such, not hidden behind replacement characters.
    assert sum("not valid UTF-8" in (detail or "") for _, detail in by_line.values()) == 2


def test_the_check_gets_each_lines_exact_bytes(spark, odd_lines_file) -> None:
    by_line = _classified_by_line(
        spark, odd_lines_file, check_event=lambda line: (BAD_JSON, line.hex())
    )
    assert by_line == {line: (BAD_JSON, line.hex()) for line in ODD_LINES}
