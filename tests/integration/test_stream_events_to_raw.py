"""The streaming job against the real broker: valid events land in the raw zone partitioned by
event date and hour, bad records in the quarantine with their reasons, and runs from the same
checkpoint land each record once; the batch curation then reads what it landed."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from kafka_test_topics import StreamTopics
from stream_events import Visitor, encode, make_event

from contracts.lake import (
    CURATED_EVENTS,
    CURATED_SESSIONS,
    RAW_STREAM_EVENTS,
    RAW_STREAM_QUARANTINE,
)
from glue_jobs.curate_events import RawEventSources, run_curation
from glue_jobs.quality import QualityGate
from glue_jobs.stream_events_to_raw import StreamSettings, run_available_now
from lambdas.shared.kafka_producer import EventProducer

pytestmark = pytest.mark.integration

VISITOR = Visitor(
    session_id="22222222-2222-4222-8222-222222222222",
    anonymous_id="11111111-1111-4111-8111-111111111111",
    user_id=None,
)
# From 23:40 UTC every 40 s: 60 events straddle midnight (hours 23 and 00).
FIRST_EVENT_AT = datetime(2026, 10, 1, 23, 40, tzinfo=UTC)
BAD_RECORDS = {
    b"{truncated": "bad_json",
    b'"a string"': "bad_json",
    json.dumps({"event_type": "page_viewed"}).encode(): "schema_violation",
    encode(
        make_event("page_viewed", FIRST_EVENT_AT, VISITOR, {"page_type": "nope", "path": "/"})
    ): ("schema_violation"),
}


def _events(count: int, start: datetime) -> list[dict]:
    return [
        make_event(
            "page_viewed",
            start + timedelta(seconds=40 * n),
            VISITOR,
            {"page_type": "home", "path": "/"},
        )
        for n in range(count)
    ]


def _produce(producer: EventProducer, topic: str, values: list[bytes]) -> None:
    for value in values:
        producer.send(topic, key=VISITOR.anonymous_id.encode(), value=value)
    producer.flush()


def _expected_partitions(events: list[dict]) -> Counter:
    """(date, hour) of each event, read from its occurred_at text."""
    return Counter(
        (event["occurred_at"][:10], int(event["occurred_at"][11:13])) for event in events
    )


def test_job_lands_events_by_date_and_hour_quarantines_the_rest_and_resumes(
    spark, stream_topics: StreamTopics, idempotent_producer: EventProducer, tmp_path: Path
):
    first = _events(60, FIRST_EVENT_AT)
    _produce(
        idempotent_producer,
        stream_topics.events,
        [encode(event) for event in first[:30]]
        + list(BAD_RECORDS)
        + [encode(e) for e in first[30:]],
    )
    settings = StreamSettings(
        bootstrap_servers=stream_topics.bootstrap_servers,
        topic=stream_topics.events,
        raw_root=str(tmp_path / "raw"),
        checkpoint_root=str(tmp_path / "checkpoints"),
    )
    events_path = str(tmp_path / "raw" / RAW_STREAM_EVENTS)
    quarantine_path = str(tmp_path / "raw" / RAW_STREAM_QUARANTINE)

    assert run_available_now(spark, settings) == {"events": 60, "quarantined": 4}

    landed = spark.read.parquet(events_path)
    partitions = Counter(
        (row.event_date.isoformat(), row.event_hour)
        for row in landed.select("event_date", "event_hour").collect()
    )
    assert partitions == _expected_partitions(first)
    assert sorted(partitions) == [("2026-10-01", 23), ("2026-10-02", 0)]
    assert {row.event_id for row in landed.select("event_id").collect()} == {
        event["event_id"] for event in first
    }
    quarantined = spark.read.parquet(quarantine_path).collect()
    assert sorted((bytes(row.raw_value), row.reason) for row in quarantined) == sorted(
        BAD_RECORDS.items()
    )
    assert all(row.detail for row in quarantined)

    # Nothing new on the topic: a run from the checkpoint adds nothing.
    files_before = sorted(Path(events_path).rglob("*.parquet"))
    assert run_available_now(spark, settings) == {"events": 0, "quarantined": 0}
    assert sorted(Path(events_path).rglob("*.parquet")) == files_before

    # New records: the next run lands exactly those.
    later = _events(5, datetime(2026, 10, 2, 1, 0, tzinfo=UTC))
    _produce(idempotent_producer, stream_topics.events, [encode(event) for event in later])
    assert run_available_now(spark, settings) == {"events": 5, "quarantined": 0}
    landed = spark.read.parquet(events_path)
    assert landed.count() == 65
    assert landed.select("event_id").distinct().count() == 65
    assert spark.read.parquet(quarantine_path).count() == 4


def test_batch_curation_reads_what_the_streaming_job_landed(
    spark, stream_topics: StreamTopics, idempotent_producer: EventProducer, tmp_path: Path
):
    # 20 page views 40 s apart (one session, 23:40 to 23:52:40) and a re-sent copy of the first.
    events = _events(20, FIRST_EVENT_AT)
    values = [encode(event) for event in events]
    _produce(idempotent_producer, stream_topics.events, [*values, values[0]])
    settings = StreamSettings(
        bootstrap_servers=stream_topics.bootstrap_servers,
        topic=stream_topics.events,
        raw_root=str(tmp_path / "raw"),
        checkpoint_root=str(tmp_path / "checkpoints"),
    )
    assert run_available_now(spark, settings) == {"events": 21, "quarantined": 0}

    curated = tmp_path / "curated"
    counts = run_curation(
        spark,
        RawEventSources(streamed=str(tmp_path / "raw" / RAW_STREAM_EVENTS)),
        str(curated),
        None,
        timedelta(hours=48),
        QualityGate("curate_events", "from-stream", datetime(2026, 10, 2, 1, tzinfo=UTC)),
    )

    assert counts == {
        "received": 21, "accepted": 20, "duplicate": 1, "bad_json": 0, "schema_violation": 0,
        "too_late": 0,
    }  # fmt: skip
    curated_ids = spark.read.parquet(str(curated / CURATED_EVENTS)).select("event_id").collect()
    assert sorted(row.event_id for row in curated_ids) == sorted(e["event_id"] for e in events)
    (session,) = spark.read.parquet(str(curated / CURATED_SESSIONS)).collect()
    assert (session.session_id, session.event_count) == (VISITOR.session_id, 20)
    assert (session.started_at, session.ended_at) == (
        datetime(2026, 10, 1, 23, 40),
        datetime(2026, 10, 1, 23, 52, 40),
    )
