"""`ecom demo` on a database the user names: it builds the shop and never overwrites silently."""

from __future__ import annotations

import gzip
from datetime import date
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from local_platform.cli import app
from local_platform.smoke.local import dashboard_site, first_query_answers, last_batch_run

pytestmark = pytest.mark.integration
runner = CliRunner()


def _demo(url: str, workdir: Path, *extra: str):
    return runner.invoke(
        app,
        [
            "demo",
            "--database-url",
            url,
            "--users",
            "40",
            "--days",
            "5",
            "--workdir",
            str(workdir),
            *list(extra),
        ],
    )


@pytest.fixture(autouse=True)
def _in_process_stream(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Kafka route of the real-time stage is tested in test_realtime_stage.py."""
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)


def test_demo_builds_the_shop_and_streams_it(migrated_database: str, tmp_path: Path):
    result = _demo(migrated_database, tmp_path)

    assert result.exit_code == 0, result.output
    assert "Stage 1" in result.output
    assert "Stage 2: real time (stream processor, in process)" in result.output
    with psycopg.connect(migrated_database) as conn:
        users, sessions = conn.execute(
            "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM sessions)"
        ).fetchone()
        processed = conn.execute("SELECT count(*) FROM realtime.processed_events").fetchone()[0]
        # The demo's shop has a year of history before its five-day window (from 2026-09-26).
        history_orders, first_order = conn.execute(
            "SELECT count(*) FILTER (WHERE placed_at < '2026-09-26'), min(placed_at)::date"
            " FROM orders"
        ).fetchone()
    with gzip.open(tmp_path / "events.jsonl.gz", "rt") as lines:
        events = sum(1 for _ in lines)
    assert users == 40
    assert f"{sessions:,}" in result.output
    assert processed == events
    assert history_orders > 0
    assert first_order >= date(2025, 9, 26)
    assert f"{history_orders:,} orders" in " ".join(result.output.split())
    assert (tmp_path / "events.jsonl.gz").stat().st_size > 0
    assert "Stage 5: dashboards" in result.output
    assert result.output.strip().splitlines()[-1] == str(tmp_path / "dashboards" / "index.html")
    assert (tmp_path / "dashboards" / "executive-overview.html").is_file()
    # What `ecom smoke --local` checks of a platform, on the records a real demo leaves.
    lake, warehouse = tmp_path / "lake", tmp_path / "warehouse.duckdb"
    assert last_batch_run(lake, warehouse).endswith(" passed, warehouse loaded")
    assert first_query_answers(warehouse).startswith("revenue_by_week: ")
    assert dashboard_site(tmp_path / "dashboards" / "index.html").startswith("index.html, ")


def test_demo_refuses_a_named_database_with_data_unless_reset(
    migrated_database: str, tmp_path: Path
):
    assert _demo(migrated_database, tmp_path).exit_code == 0

    refused = _demo(migrated_database, tmp_path)
    replaced = _demo(migrated_database, tmp_path, "--reset")

    assert refused.exit_code == 1
    assert "--reset" in refused.output
    assert replaced.exit_code == 0, replaced.output
