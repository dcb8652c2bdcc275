"""The smoke test's hops on one machine: the collector of `ecom collector serve`, the real-time
tables `ecom stream run` writes, what the last `ecom batch run` and `ecom ml score` left in the
lake, the DuckDB warehouse, and the dashboard site `ecom dashboards build` writes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import psycopg

from contracts.lake import (
    CUSTOMER_SCORES,
    CUSTOMER_SCORES_PARTITION,
    JOB_ZONES,
    QUALITY_RESULTS,
    Lake,
)
from contracts.quality import CRITICAL
from contracts.warehouse.queries import load_queries
from local_platform.ml_runner import MlPaths
from local_platform.smoke.hops import (
    BATCH,
    COLLECTOR,
    DASHBOARDS,
    REALTIME,
    SCORING,
    WAREHOUSE,
    Hop,
    HopFailed,
    SmokeEvent,
    poll,
    post_event,
)
from sagemaker_pipelines.registry import LocalRegistry, RegistryError


@dataclass(frozen=True)
class LocalPlatform:
    """Where each local piece listens or keeps its output."""

    collector_url: str
    database_url: str
    lake_root: Path
    warehouse: Path
    dashboards: Path  # the site's index.html
    churn_group: str  # the model package group scoring reads (ml_runner.model_groups)
    realtime_timeout_s: float = 30.0


def local_hops(platform: LocalPlatform, event: SmokeEvent) -> list[Hop]:
    return [
        Hop(COLLECTOR, lambda: post_event(platform.collector_url, event)),
        Hop(
            REALTIME,
            lambda: realtime_tables_have(platform.database_url, event, platform.realtime_timeout_s),
            needs=COLLECTOR,
        ),
        Hop(BATCH, lambda: last_batch_run(platform.lake_root, platform.warehouse)),
        Hop(SCORING, lambda: last_scoring_run(platform.lake_root, platform.churn_group)),
        Hop(WAREHOUSE, lambda: first_query_answers(platform.warehouse)),
        Hop(DASHBOARDS, lambda: dashboard_site(platform.dashboards)),
    ]


def realtime_tables_have(database_url: str, event: SmokeEvent, timeout_s: float) -> str:
    """The stream processor counted the event: its id in the dedupe table and its session in
    the minute's sessions."""

    def counted() -> tuple | None:
        with psycopg.connect(database_url, connect_timeout=10) as conn:
            return conn.execute(
                "SELECT e.source_partition, e.source_offset FROM realtime.processed_events e"
                " JOIN realtime.minute_sessions s ON s.session_id = %s"
                " WHERE e.event_id = %s",
                (event.session_id, event.event_id),
            ).fetchone()

    try:
        partition, offset = poll(
            counted, timeout_s, "the stream processor did not count the event (is it running?)"
        )
    except psycopg.Error as error:
        raise HopFailed(f"cannot read the real-time tables: {_first_line(error)}") from None
    return f"counted from partition {partition}, offset {offset}"


def remove_smoke_rows(database_url: str, event: SmokeEvent) -> int:
    """Take the event back out of the real-time tables, in one transaction: its dedupe row,
    its session's minute row, and its share of the minute's counts (a page view is one event
    and, its session being new, one active session). Rows removed or changed."""
    minute = event.occurred_at.replace(second=0, microsecond=0)
    with psycopg.connect(database_url, connect_timeout=10) as conn:
        removed = conn.execute(
            "DELETE FROM realtime.processed_events WHERE event_id = %s", (event.event_id,)
        ).rowcount
        if removed == 0:  # never counted: nothing of it anywhere
            return 0
        removed += conn.execute(
            "DELETE FROM realtime.minute_sessions WHERE minute = %s AND session_id = %s",
            (minute, event.session_id),
        ).rowcount
        removed += conn.execute(
            "UPDATE realtime.minute_metrics"
            " SET events = events - 1, active_sessions = active_sessions - 1"
            " WHERE minute = %s",
            (minute,),
        ).rowcount
        conn.execute(
            "DELETE FROM realtime.minute_metrics WHERE minute = %s AND events = 0", (minute,)
        )
    return removed


def last_batch_run(lake_root: Path, warehouse: Path) -> str:
    """The newest run in the lake's quality results passed every gate (extract, curate, marts:
    each gated job records its results, then a critical failure stops the run), and the
    warehouse load, the run's last stage, holds that run's results."""
    results = Path(Lake.in_folder(str(lake_root)).quality_results)
    if not any(results.rglob("*.parquet")):
        raise HopFailed(f"no batch run recorded under {results}: run `ecom batch run`")
    with duckdb.connect() as db:
        rows = db.execute(
            "SELECT run_id, job, max(evaluated_at),"
            " count(*) FILTER (WHERE NOT passed AND severity = ?)"
            " FROM read_parquet(?, hive_partitioning = true) GROUP BY run_id, job",
            [CRITICAL, str(results / "**" / "*.parquet")],
        ).fetchall()
    latest = max(rows, key=lambda row: row[2])[0]
    jobs = {job: critical for run, job, _, critical in rows if run == latest}
    for job in JOB_ZONES:  # in run order
        if job not in jobs:
            raise HopFailed(f"batch run {latest} stopped before {job}")
        if jobs[job]:
            raise HopFailed(f"batch run {latest}: {jobs[job]} critical rule(s) failed in {job}")
    count_run = f"SELECT count(*) FROM {QUALITY_RESULTS} WHERE run_id = ?"  # noqa: S608 a contract constant
    loaded = _warehouse_rows(warehouse, count_run, [latest])
    if not loaded or loaded[0][0] == 0:
        raise HopFailed(f"batch run {latest} passed its gates but never reached the warehouse load")
    return f"run {latest}: {', '.join(JOB_ZONES)} passed, warehouse loaded"


def last_scoring_run(lake_root: Path, churn_group: str) -> str:
    """The newest scoring day in the lake holds scores, made by an approved model version."""
    paths = MlPaths.beside(lake_root)
    try:
        approved = LocalRegistry(paths.registry).latest_approved(churn_group)
    except RegistryError as error:
        raise HopFailed(f"no approved model to score with: {error}") from None
    scores = Path(paths.lake.curated_table(CUSTOMER_SCORES))
    days = sorted(scores.glob(f"{CUSTOMER_SCORES_PARTITION}=*")) if scores.is_dir() else []
    if not days:
        raise HopFailed(f"no scores under {scores}: run `ecom ml score`")
    latest = days[-1]
    with duckdb.connect() as db:
        count, versions = db.execute(
            "SELECT count(*), list(DISTINCT churn_model_version) FROM read_parquet(?)",
            [str(latest / "*.parquet")],
        ).fetchone()
    if count == 0:
        raise HopFailed(f"the last scoring run wrote no scores to {latest}")
    return (
        f"{count:,} customers scored {latest.name.partition('=')[2]} by version"
        f" {', '.join(map(str, versions))} (latest approved: {approved.version})"
    )


def first_query_answers(warehouse: Path) -> str:
    first = load_queries()[0]
    rows = _warehouse_rows(warehouse, first.sql)
    if not rows:
        raise HopFailed(f"{first.name} answered with no rows: the marts are empty")
    return f"{first.name}: {len(rows)} rows"


def dashboard_site(index: Path) -> str:
    if not index.is_file():
        raise HopFailed(f"no dashboard site at {index}: run `ecom dashboards build`")
    text = index.read_text(encoding="utf-8", errors="replace")
    if "<html" not in text.lower():
        raise HopFailed(f"{index} is not an HTML page")
    built = datetime.fromtimestamp(index.stat().st_mtime, UTC)
    return f"{index.name}, {len(text):,} characters, built {built:%Y-%m-%d %H:%M} UTC"


def _warehouse_rows(warehouse: Path, sql: str, parameters: list | None = None) -> list[tuple]:
    if not warehouse.is_file():
        raise HopFailed(f"no warehouse at {warehouse}: run `ecom batch run`")
    try:
        with duckdb.connect(str(warehouse), read_only=True) as db:
            return db.execute(sql, parameters or []).fetchall()
    except duckdb.Error as error:
        raise HopFailed(f"the warehouse refused the query: {_first_line(error)}") from None


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]
