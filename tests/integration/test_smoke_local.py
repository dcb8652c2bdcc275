"""`ecom smoke --local` against a running local platform: the collector served in-process and
`ecom stream run` as its own process, on this test's topics of the shared broker and a fresh
database; the batch and ML runs' records in a lake of the test's own, its warehouse built by
the real loader. It passes, leaves the real-time tables as it found them, and fails naming the
hop when the stream processor is not running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import psycopg
import pytest
from kafka_harness import collector_fixture  # noqa: F401 (a fixture)
from kafka_test_topics import StreamTopics
from local_run_records import approve_model, write_quality_results, write_sales_mart, write_scores
from typer.testing import CliRunner

from contracts.lake import Lake
from local_platform.cli import app
from local_platform.local_warehouse import load_local_warehouse
from local_platform.ml_runner import model_groups

pytestmark = pytest.mark.integration
REPO_ROOT = Path(__file__).resolve().parents[2]
HOPS = [
    "collector accepts the event",
    "event reaches the real-time tables",
    "batch workflow: last run succeeded",
    "scoring pipeline: last run succeeded",
    "warehouse answers the first query",
    "dashboards exist",
]
REALTIME_TABLES = ("processed_events", "minute_sessions", "minute_metrics")


@pytest.fixture
def platform_files(tmp_path: Path) -> dict[str, Path]:
    """The lake, warehouse and dashboard site a batch run, a scoring run and a dashboard
    build leave behind (three sales weeks, 4 customers scored by version 1)."""
    lake = tmp_path / "lake"
    write_quality_results(lake, "run-1", datetime(2026, 12, 5, 3, tzinfo=UTC), {
        "extract_oltp": 0, "curate_events": 0, "build_marts": 0})  # fmt: skip
    write_sales_mart(lake, [date(2026, 11, 16), date(2026, 11, 24), date(2026, 11, 30)])
    warehouse = tmp_path / "warehouse.duckdb"
    load_local_warehouse(warehouse, Lake.in_folder(str(lake)))
    approve_model(lake, model_groups("dev")[0], tmp_path)
    write_scores(lake, date(2026, 12, 5), customers=4, version="1")
    index = tmp_path / "dashboards" / "index.html"
    built = CliRunner().invoke(app, ["dashboards", "build", "--warehouse", str(warehouse),
                                     "--out", str(index.parent)])  # fmt: skip
    assert built.exit_code == 0, built.output
    return {"lake": lake, "warehouse": warehouse, "dashboards": index}


@pytest.fixture
def stream_processor(
    stream_topics: StreamTopics, migrated_database: str, tmp_path: Path
) -> Iterator[None]:
    """`ecom stream run` on the test's topics and database, as a process of its own (its
    output in stream.log)."""
    command = [
        sys.executable, "-c", "from local_platform.cli import main; main()", "stream", "run",
        "--bootstrap-servers", stream_topics.bootstrap_servers,
        "--database-url", migrated_database,
        "--topic", stream_topics.events,
        "--dead-letter-topic", stream_topics.dead_letters,
        "--group-id", f"smoke-{stream_topics.events}",
        "--idle-timeout", "120",
    ]  # fmt: skip
    with (tmp_path / "stream.log").open("w") as log:
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, env=os.environ.copy(), stdout=log, stderr=subprocess.STDOUT
        )
    yield
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _smoke(collector: str, database_url: str, files: dict[str, Path], tmp_path: Path, timeout: str):
    summary = tmp_path / "summary.md"
    result = CliRunner().invoke(
        app,
        [
            "smoke", "--local", "--collector-url", collector, "--database-url", database_url,
            "--lake", str(files["lake"]), "--warehouse", str(files["warehouse"]),
            "--dashboards", str(files["dashboards"]), "--timeout", timeout,
            "--markdown", str(summary),
        ],
    )  # fmt: skip
    return result, summary.read_text()


def _rows(database_url: str) -> dict[str, int]:
    with psycopg.connect(database_url) as conn:
        return {
            table: conn.execute(f"SELECT count(*) FROM realtime.{table}").fetchone()[0]
            for table in REALTIME_TABLES
        }


def test_smoke_passes_on_the_running_platform_and_cleans_up(
    collector: str,
    stream_processor: None,
    migrated_database: str,
    platform_files: dict[str, Path],
    tmp_path: Path,
):
    result, summary = _smoke(collector, migrated_database, platform_files, tmp_path, "90")

    assert result.exit_code == 0, result.output
    for hop in HOPS:
        assert f"| {hop} | pass |" in summary
    assert "All hops passed." in summary
    assert "counted from partition" in summary
    assert "run run-1: extract_oltp, curate_events, build_marts passed, warehouse loaded" in summary
    assert "4 customers scored 2026-12-05 by version 1 (latest approved: 1)" in summary
    # 16 Nov, 24 Nov (week of the 23rd), 30 Nov: three weeks.
    assert "revenue_by_week: 3 rows" in summary
    # One dedupe row, one minute-session row and the minute's counts, then nothing is left.
    assert "Removed the smoke event's rows from the real-time tables (3)." in result.output
    assert _rows(migrated_database) == dict.fromkeys(REALTIME_TABLES, 0)


def test_smoke_fails_naming_the_hop_when_the_stream_processor_is_stopped(
    collector: str, migrated_database: str, platform_files: dict[str, Path], tmp_path: Path
):
    result, summary = _smoke(collector, migrated_database, platform_files, tmp_path, "4")

    assert result.exit_code == 1
    assert (
        "error: smoke test failed at hop 'event reaches the real-time tables': the stream"
        " processor did not count the event (is it running?) within 4 s"
    ) in " ".join(result.output.split())
    assert "**Failed at hop `event reaches the real-time tables`.**" in summary
    for hop in HOPS:
        expected = "FAIL" if hop == "event reaches the real-time tables" else "pass"
        assert f"| {hop} | {expected} |" in summary
    assert "Removed the smoke event's rows from the real-time tables (0)." in result.output
    assert _rows(migrated_database) == dict.fromkeys(REALTIME_TABLES, 0)
