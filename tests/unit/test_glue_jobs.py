"""The curate_events job end to end on a local folder: counts reported, tables written, and a
re-run on the same input leaves identical tables."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta

from spark_fixtures import SESSION_ID, raw_event

from glue_jobs.curate_events import RawEventSources, run_curation
from glue_jobs.quality import QualityGate

E1 = "00000000-0000-4000-8000-0000000000a1"
E2 = "00000000-0000-4000-8000-0000000000a2"


def test_curation_job_writes_tables_and_reruns_identically(spark, tmp_path) -> None:
    landing = tmp_path / "raw" / "events"
    landing.mkdir(parents=True)
    lines = [
        raw_event(E1, "2026-10-01T10:00:00Z", path="/home"),
        raw_event(E2, "2026-10-01T10:20:00Z", path="/p/9"),  # 20 min later: same session
        raw_event(E1, "2026-10-01T10:00:00Z", path="/home"),  # re-sent: duplicate
        "not json at all",
    ]
    with gzip.open(landing / "part-0.jsonl.gz", "wt") as handle:
        handle.write("\n".join(lines) + "\n")
    curated = str(tmp_path / "curated")

    def run_and_read() -> tuple[dict[str, int], list, list, list]:
        gate = QualityGate("curate_events", "test-run", datetime(2026, 10, 2, tzinfo=UTC))
        counts = run_curation(
            spark, RawEventSources(landed=str(landing)), curated, None, timedelta(hours=48), gate
        )
        tables = [
            sorted(spark.read.parquet(f"{curated}/{name}").collect())
            for name in ("events", "sessions", "quarantine/events")
        ]
        return counts, *tables

    counts, events, sessions, quarantine = run_and_read()
    assert counts == {
        "received": 4, "accepted": 2, "duplicate": 1, "bad_json": 1, "schema_violation": 0,
        "too_late": 0,
    }  # fmt: skip
    assert [(r.event_id, r.session_id, r.session_source) for r in events] == [
        (E1, SESSION_ID, "client"),
        (E2, SESSION_ID, "client"),
    ]
    assert [(s.session_id, s.duration_seconds, s.entry_page, s.exit_page) for s in sessions] == [
        (SESSION_ID, 1200, "/home", "/p/9")  # 10:00 -> 10:20
    ]
    assert [(q.reason, q.raw_event) for q in quarantine] == [("bad_json", "not json at all")]

    assert run_and_read() == (counts, events, sessions, quarantine)
