"""curate_events' raw lines from both sources: landed JSON Lines and the streaming job's table,
on hand-written lines; copies across the two compete like any other copies."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest
from spark_fixtures import raw_event

from contracts.lake import RAW_STREAM_EVENT_PARTITIONS
from glue_jobs.curate_events import RawEventSources, read_raw_lines
from glue_jobs.transforms.event_schema import spark_event_schema
from glue_jobs.transforms.events import classify_raw_events, curation_counts
from glue_jobs.transforms.raw_stream import classify_kafka_records, raw_events
from local_platform.batch_pipeline import raw_event_sources

E1 = "00000000-0000-4000-8000-0000000000e1"
E2 = "00000000-0000-4000-8000-0000000000e2"
E3 = "00000000-0000-4000-8000-0000000000e3"
KAFKA_SCHEMA = (
    "key binary, value binary, topic string, partition int, offset long, "
    "timestamp timestamp, timestampType int"
)
# The landing file was written at 12:00 UTC; Kafka stored E2's copy at 11:00 and E3 at 11:30.
LANDED_AT = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)
LANDED = [
    raw_event(E1, "2026-10-01T10:00:00Z"),
    raw_event(E2, "2026-10-01T10:30:00Z", path="/landed-copy"),
    '{"event_id": "' + E3,  # truncated: bad JSON
]
STREAMED = [
    (raw_event(E2, "2026-10-01T10:30:00Z", path="/streamed-copy"), datetime(2026, 10, 1, 11, 0)),
    (raw_event(E3, "2026-10-01T11:29:00Z"), datetime(2026, 10, 1, 11, 30)),
]


@pytest.fixture
def sources(spark, tmp_path) -> RawEventSources:
    landed = tmp_path / "raw" / "events" / "landing.jsonl"
    landed.parent.mkdir(parents=True)
    landed.write_text("\n".join(LANDED) + "\n")
    os.utime(landed, (LANDED_AT.timestamp(), LANDED_AT.timestamp()))
    records = spark.createDataFrame(
        [(b"k", line.encode(), "events", 0, offset, at, 0)
         for offset, (line, at) in enumerate(STREAMED)],
        KAFKA_SCHEMA,
    )  # fmt: skip
    streamed = tmp_path / "raw" / "events_stream"
    # Written as the streaming job writes it: typed events by event date and hour.
    raw_events(
        classify_kafka_records(records, event_schema=spark_event_schema())
    ).write.partitionBy(*RAW_STREAM_EVENT_PARTITIONS).parquet(str(streamed))
    return RawEventSources(landed=str(landed.parent), streamed=str(streamed))


def test_lines_from_both_sources_keep_their_receive_times(spark, sources) -> None:
    lines = read_raw_lines(spark, sources).collect()
    received = sorted((row.value, row.received_at) for row in lines)
    landed_at = LANDED_AT.replace(tzinfo=None)  # the spark fixture's session zone is UTC
    assert received == sorted(
        [(line, landed_at) for line in LANDED] + [(line, at) for line, at in STREAMED]
    )


def test_the_earliest_received_copy_wins_across_sources(spark, sources) -> None:
    classified = classify_raw_events(
        read_raw_lines(spark, sources),
        event_schema=spark_event_schema(),
        watermark=None,
        allowed_lateness=timedelta(hours=48),
    )
    counts = curation_counts(classified).collect()[0].asDict()
    # 5 lines: E1, E2 landed, E2 streamed, E3 streamed, one bad line.
    assert counts == {
        "received": 5, "accepted": 3, "duplicate": 1, "bad_json": 1, "schema_violation": 0,
        "too_late": 0,
    }  # fmt: skip
    accepted = {
        row.event.event_id: row.event.context.page.path
        for row in classified.filter("outcome = 'accepted'").collect()
    }
    # E2's streamed copy was received at 11:00, before the landing file (12:00): it wins.
    assert accepted[E2] == "/streamed-copy"
    assert set(accepted) == {E1, E2, E3}


def test_a_missing_source_is_skipped_and_no_source_at_all_is_an_error(
    spark, sources, tmp_path
) -> None:
    absent = str(tmp_path / "nothing-here")
    only_stream = RawEventSources(landed=absent, streamed=sources.streamed)
    assert read_raw_lines(spark, only_stream).count() == len(STREAMED)
    # A stream table the streaming job has created but not written a file to yet.
    empty_stream = tmp_path / "empty_stream" / "_spark_metadata"
    empty_stream.mkdir(parents=True)
    only_landed = RawEventSources(landed=sources.landed, streamed=str(empty_stream.parent))
    assert read_raw_lines(spark, only_landed).count() == len(LANDED)
    with pytest.raises(FileNotFoundError, match="no raw events: nothing at"):
        read_raw_lines(spark, RawEventSources(landed=absent, streamed=absent))


def test_local_events_option_tells_the_stream_table_from_landed_lines(sources, tmp_path) -> None:
    assert raw_event_sources(tmp_path / "raw" / "events_stream") == RawEventSources(
        streamed=str(tmp_path / "raw" / "events_stream")
    )
    landed_folder = tmp_path / "raw" / "events"
    assert raw_event_sources(landed_folder) == RawEventSources(landed=str(landed_folder))
