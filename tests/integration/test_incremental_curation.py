"""Incremental curation against a full re-curation of the same lines, on local Spark.

Two landing runs: the second brings an event that extends a session across the run boundary
(and midnight), a copy of an event curated by the first run (received later: a duplicate), a
copy of another received earlier than the curated one (it wins and replaces it), an event
that splits a client session by inactivity, a late line, bad lines, and a new session. After
the second run the curated tables equal, row for row (EXCEPT ALL both ways), those of one
full run over both runs' files; the expected values are worked out by hand below.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from pyspark.sql import DataFrame, SparkSession
from stream_events import Visitor, make_event

from glue_jobs.curate_events import RawEventSources, run_curation
from glue_jobs.quality import QualityGate
from glue_jobs.raw_objects import manifest_uri, read_manifest

pytestmark = pytest.mark.integration

TABLES = {"events": "event_date", "sessions": "session_date", "quarantine/events": "received_date"}
# Landing files' modification times: the second run's early file predates the first run's.
FIRST_RUN_FILE_AT = datetime(2026, 10, 2, 12, 0, tzinfo=UTC)
EARLY_FILE_AT = datetime(2026, 10, 2, 8, 0, tzinfo=UTC)
SECOND_RUN_FILE_AT = datetime(2026, 10, 3, 6, 0, tzinfo=UTC)
# The second run's watermark: with 96 h of lateness, events before Sep 29 00:00 are too late.
WATERMARK = datetime(2026, 10, 3, 0, 0, tzinfo=UTC)
LATENESS = timedelta(hours=96)


def visitor(number: int) -> Visitor:
    return Visitor(
        session_id=f"00000000-0000-4000-8000-{number:012d}",
        anonymous_id=f"00000000-0000-4000-9000-{number:012d}",
        user_id=None,
    )


def event_id(number: int) -> str:
    return f"00000000-0000-4000-a000-{number:012d}"


def line(number: int, who: int, at: str, path: str = "/home") -> str:
    event = make_event(
        "page_viewed",
        datetime.fromisoformat(at).replace(tzinfo=UTC),
        visitor(who),
        {"page_type": "other", "path": path},
        event_id=event_id(number),
    )
    return json.dumps(
        {**event, "context": {**event["context"], "page": {"path": path, "title": None}}}
    )


DUPLICATED = line(31, 3, "2026-09-30T10:00:00")
FIRST_RUN = [
    line(11, 1, "2026-10-01T23:40:00", "/s1-a"),  # session 1 ...
    line(12, 1, "2026-10-01T23:55:00", "/s1-b"),
    line(21, 2, "2026-10-01T10:00:00"),  # session 2: untouched by the second run
    line(22, 2, "2026-10-01T10:05:00", "/s2-b"),
    DUPLICATED,
    line(32, 3, "2026-09-30T10:10:00", "/s3-b"),
    line(41, 4, "2026-10-01T23:50:00", "/s4-a"),  # session 4: split by the second run
    line(51, 5, "2026-09-29T12:00:00", "/first-copy"),  # replaced by an earlier copy
    "not json",
]
SECOND_RUN = [
    line(13, 1, "2026-10-02T00:10:00", "/s1-c"),  # ... continued after midnight, next run
    DUPLICATED,  # received again, later: a duplicate
    # 40 minutes after 41: session 4 splits, and 41 (the only event of Oct 1 that changes)
    # moves to a session of its own.
    line(42, 4, "2026-10-02T00:30:00", "/s4-b"),
    line(61, 6, "2026-09-28T08:00:00"),  # before Sep 29: too late
    json.dumps({"event_id": event_id(62)}),  # schema violation
    line(71, 7, "2026-10-02T09:00:00", "/s7-a"),
    line(72, 7, "2026-10-02T09:10:00", "/s7-b"),
]
EARLY_FILE = [
    line(51, 5, "2026-09-29T12:00:00", "/earlier-copy"),  # received before the first copy
    "{oops",
]


def land(folder: Path, name: str, lines: list[str], at: datetime) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("\n".join(lines) + "\n")
    os.utime(path, (at.timestamp(), at.timestamp()))


def curate(
    spark: SparkSession,
    landed: Path,
    curated: Path,
    run_id: str,
    watermark: datetime | None,
    state: Path | None,
    full: bool = False,
) -> dict[str, int]:
    gate = QualityGate("curate_events", run_id, datetime(2026, 10, 3, 12, tzinfo=UTC))
    return run_curation(
        spark,
        RawEventSources(landed=str(landed)),
        str(curated),
        watermark,
        LATENESS,
        gate,
        state_root=None if state is None else str(state),
        full=full,
    )


def read(spark: SparkSession, curated: Path, table: str) -> DataFrame:
    return spark.read.parquet(str(curated / table))


def assert_same_tables(spark: SparkSession, left: Path, right: Path) -> None:
    for table in TABLES:
        one, other = read(spark, left, table), read(spark, right, table)
        other = other.select(*one.columns)
        assert one.count() == other.count() > 0, table
        assert one.exceptAll(other).count() == 0, table
        assert other.exceptAll(one).count() == 0, table


def partition_files(curated: Path, table: str, value: date) -> dict[str, int]:
    folder = curated / table / f"{TABLES[table]}={value}"
    return {path.name: path.stat().st_mtime_ns for path in folder.iterdir()}


@pytest.fixture(scope="module")
def lakes(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The incremental lake after each run, and the lake of one full run over every file."""
    root = tmp_path_factory.mktemp("incremental")
    landed, state = root / "raw" / "events", root / "state"
    incremental, full = root / "curated", root / "full" / "curated"

    land(landed, "a.jsonl", FIRST_RUN, FIRST_RUN_FILE_AT)
    first = curate(spark, landed, incremental, "run-1", None, state)
    untouched = {
        table: partition_files(incremental, table, date(2026, 9, 30))
        for table in ("events", "sessions")
    }
    reassigned = partition_files(incremental, "events", date(2026, 10, 1))
    land(landed, "b.jsonl", SECOND_RUN, SECOND_RUN_FILE_AT)
    land(landed, "b0.jsonl", EARLY_FILE, EARLY_FILE_AT)
    second = curate(spark, landed, incremental, "run-2", WATERMARK, state)
    full_counts = curate(spark, landed, full, "run-full", WATERMARK, None)
    return {
        "landed": landed, "state": state, "incremental": incremental, "full": full,
        "first": first, "second": second, "full_counts": full_counts, "untouched": untouched,
        "reassigned": reassigned,
    }  # fmt: skip


def test_each_run_counts_only_its_own_lines(lakes) -> None:
    assert lakes["first"] == {
        "received": 9, "accepted": 8, "duplicate": 0, "bad_json": 1, "schema_violation": 0,
        "too_late": 0,
    }  # fmt: skip
    # 9 new lines: the copy of 31 loses to the curated one, the early copy of 51 wins.
    assert lakes["second"] == {
        "received": 9, "accepted": 5, "duplicate": 1, "bad_json": 1, "schema_violation": 1,
        "too_late": 1,
    }  # fmt: skip
    assert lakes["full_counts"] == {
        "received": 18, "accepted": 12, "duplicate": 2, "bad_json": 2, "schema_violation": 1,
        "too_late": 1,
    }  # fmt: skip


def test_incremental_tables_equal_a_full_recuration(spark, lakes) -> None:
    assert_same_tables(spark, lakes["incremental"], lakes["full"])


def test_copies_across_runs(spark, lakes) -> None:
    events = {row.event_id: row for row in read(spark, lakes["incremental"], "events").collect()}
    assert len(events) == 12
    naive = {at: at.replace(tzinfo=None) for at in (FIRST_RUN_FILE_AT, EARLY_FILE_AT)}
    # 31 again in the second run: still the first run's copy, once.
    assert events[event_id(31)].received_at == naive[FIRST_RUN_FILE_AT]
    # 51's copy received earlier (in the second run's early file) replaced the first one.
    replaced = events[event_id(51)]
    assert (replaced.page_path, replaced.received_at) == ("/earlier-copy", naive[EARLY_FILE_AT])
    assert event_id(61) not in events  # too late


def test_sessions_across_the_run_boundary(spark, lakes) -> None:
    sessions = {
        row.session_id: row for row in read(spark, lakes["incremental"], "sessions").collect()
    }
    crossing = sessions[visitor(1).session_id]
    # 23:40 and 23:55 from the first run, 00:10 from the second.
    assert (crossing.event_count, crossing.duration_seconds) == (3, 1800)
    assert (crossing.session_date, crossing.entry_page, crossing.exit_page) == (
        date(2026, 10, 1), "/s1-a", "/s1-c"
    )  # fmt: skip
    # Session 4 had a 40-minute gap after the second run: two sessions by inactivity.
    assert visitor(4).session_id not in sessions
    split = sorted(
        (row.entry_page, row.session_source, row.event_count)
        for row in sessions.values()
        if row.anonymous_id == visitor(4).anonymous_id
    )
    assert split == [("/s4-a", "inactivity", 1), ("/s4-b", "inactivity", 1)]
    assert sessions[visitor(5).session_id].entry_page == "/earlier-copy"
    assert len(sessions) == 7  # visitors 1, 2, 3, 4 (twice), 5 and 7
    assert sessions[visitor(7).session_id].event_count == 2


def test_quarantine_keeps_both_runs_lines(spark, lakes) -> None:
    rows = read(spark, lakes["incremental"], "quarantine/events").collect()
    # Bad lines by the day they were received: the early file's joins the first run's.
    assert sorted((str(row.received_date), row.reason, row.event_id or row.raw_event)
                  for row in rows) == [
        ("2026-10-02", "bad_json", "not json"),
        ("2026-10-02", "bad_json", "{oops"),
        ("2026-10-03", "schema_violation", event_id(62)),
        ("2026-10-03", "too_late", event_id(61)),
    ]  # fmt: skip


def test_only_changed_partitions_are_rewritten(lakes) -> None:
    # Sep 30 holds 31 and 32: the duplicate of 31 changed nothing there.
    for table, files in lakes["untouched"].items():
        assert partition_files(lakes["incremental"], table, date(2026, 9, 30)) == files
    # Oct 1 got no new event, but 41 there changed session: rewritten.
    assert partition_files(lakes["incremental"], "events", date(2026, 10, 1)) != lakes["reassigned"]


def test_a_run_without_new_objects_changes_nothing(spark, lakes) -> None:
    manifest = read_manifest(manifest_uri(str(lakes["state"])))
    assert sorted(Path(path).name for path in manifest) == ["a.jsonl", "b.jsonl", "b0.jsonl"]
    counts = curate(
        spark, lakes["landed"], lakes["incremental"], "run-3", WATERMARK, lakes["state"]
    )
    assert set(counts.values()) == {0}
    assert_same_tables(spark, lakes["incremental"], lakes["full"])


def test_a_forced_full_run_gives_the_same_tables(spark, lakes) -> None:
    counts = curate(
        spark, lakes["landed"], lakes["incremental"], "run-4", WATERMARK, lakes["state"], True
    )
    assert counts == lakes["full_counts"]
    assert_same_tables(spark, lakes["incremental"], lakes["full"])


def test_a_curated_object_changed_since_recurates_every_line(spark, lakes) -> None:
    # a.jsonl touched after it was curated: the manifest no longer matches it, so the run
    # reads every listed file again (18 lines), not only those the manifest lacks (none).
    touched_at = FIRST_RUN_FILE_AT + timedelta(hours=1)
    os.utime(lakes["landed"] / "a.jsonl", (touched_at.timestamp(), touched_at.timestamp()))
    counts = curate(
        spark, lakes["landed"], lakes["incremental"], "run-5", WATERMARK, lakes["state"]
    )
    assert counts == lakes["full_counts"]
    events = {row.event_id: row for row in read(spark, lakes["incremental"], "events").collect()}
    assert len(events) == 12
    # 31's lines now carry a.jsonl's new time: re-read, not kept from the tables.
    assert events[event_id(31)].received_at == touched_at.replace(tzinfo=None)
