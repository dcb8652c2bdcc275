"""The quality gate on Spark: each rule kind measured on a hand-built frame (figures worked
out in the comments), critical failures stop a job and publish nothing, warnings do not,
results land in the results table once per run, and staged outputs swap in as documented."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from spark_fixtures import SESSION_ID, raw_event, table

from contracts.quality import JobRules, load_job_rules
from glue_jobs.curate_events import RawEventSources, run_curation
from glue_jobs.lake import write_table
from glue_jobs.quality import QualityGate, QualityGateError, References, evaluate
from glue_jobs.staging import StagedTable

NOW = datetime(2026, 10, 1, tzinfo=UTC)
ORDERS = [
    (1, 10, "placed", "2026-09-30 12:00"),
    (2, 11, "shipped", "2026-09-20 08:00"),
    (2, 12, "lost", None),  # repeats id 2, unknown status, no placed_at
    (None, 99, "placed", "2026-09-29 23:00"),  # no id, unknown user
]
RULES = [
    {"check": "row_count", "op": ">", "value": 3},
    {"check": "row_count_match", "reference": "users", "op": "=", "value": 1.0},
    {"check": "primary_key", "columns": ["id"]},
    {"check": "not_null", "column": "placed_at"},
    {"check": "accepted_values", "column": "status", "values": ["placed", "shipped"]},
    {"check": "referential", "columns": ["user_id"], "reference": "users",
     "reference_columns": ["id"]},
    {"check": "freshness", "column": "placed_at", "max_age_hours": 24},
    {"check": "freshness", "column": "placed_at", "max_age_hours": 6, "severity": "warning"},
]  # fmt: skip


def test_each_rule_kind_measures_what_it_says(spark):
    orders = table(spark, "id bigint, user_id bigint, status string, placed_at timestamp", ORDERS)
    users = table(spark, "id bigint", [(10,), (11,), (12,)])
    rules = JobRules.model_validate({"job": "example", "tables": {"orders": RULES}})

    rows, results = evaluate(
        "example", {"orders": (orders, rules.tables["orders"])}, References({"users": users}, {}),
        NOW,
    )  # fmt: skip

    assert rows == {"orders": 4}
    assert [(r.rule, r.passed, r.observed) for r in results] == [
        ("RowCount > 3", True, "4 rows"),
        ('RowCountMatch "users" = 1.0', False, "ratio 1.3333 (4 of 3)"),
        # Keys: 1 (one row), 2 (two rows: repeated), null (incomplete).
        ('IsPrimaryKey "id"', False, "2 keys repeated or incomplete"),
        ('IsComplete "placed_at"', False, "1 nulls"),
        ('ColumnValues "status" in ["placed", "shipped"]', False,
         "1 rows outside the accepted values"),
        ('ReferentialIntegrity "user_id" "users.id" = 1.0', False,
         "1 rows without a match in users"),
        # 24 h before 2026-10-01 00:00 is 09-30 00:00: only the 09-30 12:00 order is newer.
        ("CustomSql \"SELECT COUNT(*) FROM primary WHERE placed_at >= current_timestamp() - "
         "INTERVAL 24 HOURS\" > 0", True, "1 rows at or after 2026-09-30T00:00:00+00:00"),
        ("CustomSql \"SELECT COUNT(*) FROM primary WHERE placed_at >= current_timestamp() - "
         "INTERVAL 6 HOURS\" > 0", False, "0 rows at or after 2026-09-30T18:00:00+00:00"),
    ]  # fmt: skip
    assert [r.severity for r in results][-1] == "warning"


def _curated(spark, event_ids: list[str], session_source: str = "client"):
    events = table(
        spark,
        "event_id string, event_type string, occurred_at timestamp, anonymous_id string, "
        "session_id string, channel string, event_date date",
        [
            (event_id, "page_viewed", "2026-09-30 10:00", "visitor", SESSION_ID, "web",
             "2026-09-30")
            for event_id in event_ids
        ],
    )  # fmt: skip
    sessions = table(
        spark,
        "session_id string, started_at timestamp, ended_at timestamp, anonymous_id string, "
        "session_date date, session_source string",
        [(SESSION_ID, "2026-09-30 10:00", "2026-09-30 10:00", "visitor", "2026-09-30",
          session_source)],
    )  # fmt: skip
    return {"events": events, "sessions": sessions}


class RecordingMetrics:
    def __init__(self) -> None:
        self.published: list = []

    def publish(self, results, timestamp) -> None:
        self.published.append((list(results), timestamp))


def test_a_warning_is_recorded_but_lets_the_job_go_on(spark, tmp_path):
    metrics = RecordingMetrics()
    # Three days after the events: the 48-hour freshness rule (a warning) fails.
    gate = QualityGate(
        "curate_events", "run-1", NOW + timedelta(days=3), str(tmp_path / "dq"), metrics
    )

    report = gate.check(_curated(spark, ["e1", "e2"]), reference_counts={"raw_events": 3})

    assert report.rows == {"events": 2, "sessions": 1}
    failed = [(r.table, r.check, r.severity) for r in report.results if not r.passed]
    assert failed == [("events", "freshness", "warning")]
    assert metrics.published[0][0] == report.results
    recorded = spark.read.parquet(str(tmp_path / "dq")).collect()
    rules = load_job_rules("curate_events").tables
    assert len(recorded) == len(rules["events"]) + len(rules["sessions"])
    assert {(row.job, row.run_id) for row in recorded} == {("curate_events", "run-1")}
    assert sorted(row.rule for row in recorded if not row.passed) == [
        failed_result.rule for failed_result in report.results if not failed_result.passed
    ]


def test_a_critical_failure_raises_and_is_recorded_once_per_run(spark, tmp_path):
    results_path = str(tmp_path / "dq")
    gate = QualityGate("curate_events", "run-2", NOW, results_path)
    bad = _curated(spark, ["e1", "e1"], session_source="guessed")

    for _ in range(2):  # the same run checked twice replaces its results
        with pytest.raises(QualityGateError) as raised:
            gate.check(bad, reference_counts={"raw_events": 2})

    assert [(f.table, f.rule) for f in raised.value.failures] == [
        ("events", 'IsPrimaryKey "event_id"'),
        ("sessions", 'ColumnValues "session_source" in ["client", "inactivity"]'),
    ]
    assert "previous outputs are untouched" in str(raised.value)
    recorded = spark.read.parquet(results_path)
    assert recorded.count() == sum(len(r) for r in load_job_rules("curate_events").tables.values())
    assert recorded.filter("NOT passed").count() == 2


def _listing(folder: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def test_a_failed_gate_leaves_the_published_tables_untouched(spark, tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    good = landing / "good.jsonl.gz"
    with gzip.open(good, "wt") as lines:
        lines.write(raw_event("00000000-0000-4000-8000-0000000000b1", "2026-09-30T10:00:00Z"))
    curated = tmp_path / "curated"
    gate = QualityGate("curate_events", "run-good", NOW)
    run_curation(
        spark, RawEventSources(landed=str(good)), str(curated), None, timedelta(hours=48), gate
    )
    before = _listing(curated)

    garbage = landing / "garbage.jsonl"
    garbage.write_text("not json\n{}\n")  # nothing accepted: "RowCount > 0" fails
    with pytest.raises(QualityGateError, match="RowCount > 0"):
        run_curation(
            spark, RawEventSources(landed=str(garbage)), str(curated), None, timedelta(hours=48),
            QualityGate("curate_events", "run-garbage", NOW),
        )  # fmt: skip

    assert _listing(curated) == before  # not even the quarantine moved in
    assert not (curated / "_staging").exists() or not any((curated / "_staging").iterdir())


def test_staged_partitions_replace_only_their_own(spark, tmp_path):
    schema = "day string, value int"
    final = str(tmp_path / "final")
    write_table(table(spark, schema, [("d1", 1), ("d2", 2)]), final, "day")
    staged = StagedTable(str(tmp_path / "staged"), final, "day")
    staged.write(table(spark, schema, [("d2", 20), ("d3", 30)]))

    staged.promote(spark)

    assert sorted(tuple(r) for r in spark.read.parquet(final).collect()) == [
        (1, "d1"), (20, "d2"), (30, "d3"),
    ]  # fmt: skip


def test_a_replaced_partition_that_came_out_empty_is_removed(spark, tmp_path):
    # d2 is recomputed with rows, d3 and d9 are recomputed with none (d9 was never
    # published), d1 is not touched.
    schema = "day string, value int"
    final = str(tmp_path / "final")
    write_table(table(spark, schema, [("d1", 1), ("d2", 2), ("d3", 3)]), final, "day")
    staged = StagedTable(str(tmp_path / "staged"), final, "day")
    staged.write(table(spark, schema, [("d2", 20), ("d4", 40)]))

    staged.promote(spark, replaced=["d2", "d3", "d9"])

    assert sorted(tuple(r) for r in spark.read.parquet(final).collect()) == [
        (1, "d1"), (20, "d2"), (40, "d4"),
    ]  # fmt: skip
    assert sorted(path.name for path in (tmp_path / "final").iterdir()) == [
        "day=d1", "day=d2", "day=d4",
    ]  # fmt: skip


def test_a_whole_table_swap_keeps_nothing_of_the_old_table(spark, tmp_path):
    schema = "day string, value int"
    final = str(tmp_path / "final")
    write_table(table(spark, schema, [("d1", 1), ("d2", 2)]), final, "day")
    staged = StagedTable(str(tmp_path / "staged"), final, "day", replace_whole=True)
    staged.write(table(spark, schema, [("d3", 30)]))

    staged.promote(spark)

    assert [tuple(r) for r in spark.read.parquet(final).collect()] == [(30, "d3")]
