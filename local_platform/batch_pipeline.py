"""The batch analytics pipeline on one machine: extract -> curate -> marts -> recommendations
-> quality -> load, running the Glue jobs' own functions on a local SparkSession, then
loading the marts into the local DuckDB warehouse (the recommendations go to PostgreSQL's
reco schema, as on AWS).

Stages that do not read each other's outputs run side by side on driver threads of the one
session: extract beside curate, then marts beside recommendations. A small store's jobs are
chains of small Spark jobs the driver plans one at a time, so one chain alone leaves a core
mostly idle (docs/batch.md, "The local batch on a small store").

The lake is a folder with the S3 layout (raw, curated, marts, state); quality results go to
its dq_results table and its metrics to state/quality_metrics.jsonl. Freshness and the marts'
as-of date are measured against the shop's own clock, the day after its latest session or
order, so a generated store from any date gives the figures a live run would have given.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import psycopg
from psycopg.conninfo import conninfo_to_dict
from pyspark.sql import SparkSession
from pyspark.sql import functions as sf

from contracts.database import DEFAULT_PORT, PostgresEndpoint
from contracts.lake import Lake, local_state_folder
from glue_jobs.build_marts import OLTP_TABLES, run_build
from glue_jobs.build_recommendations import RECO_COLUMNS, run_recommendations
from glue_jobs.curate_events import DEFAULT_ALLOWED_LATENESS_HOURS, RawEventSources, run_curation
from glue_jobs.extract_oltp import ReadSettings, TableExtract, run_extract
from glue_jobs.jdbc import JdbcSource
from glue_jobs.local_spark import ensure_spark_jars, local_spark_session
from glue_jobs.parallel import started_beside
from glue_jobs.quality import QualityGate
from glue_jobs.quality_metrics import JsonLinesMetrics
from glue_jobs.transforms.recommendations import RecommendationSettings
from local_platform.local_warehouse import DEFAULT_WAREHOUSE, load_local_warehouse
from local_platform.paths import LOCAL_HOME

DEFAULT_LAKE = LOCAL_HOME / "lake"
METRICS_FILE = "quality_metrics.jsonl"
STAGES = ("extract", "curate", "marts", "recommendations", "quality", "load")
SHORT_RUN_CLICKSTREAM_BYTES = 32 * 2**20
"""Clickstreams up to this size (the demo's 1,000 users x 30 days is about 4 MB gzipped) run
on a JVM tuned for a short run (glue_jobs.local_spark); 10,000 x 90 is about 190 MB."""


@dataclass(frozen=True)
class BatchSettings:
    database_url: str
    events: Path
    lake: Path = DEFAULT_LAKE
    warehouse: Path = DEFAULT_WAREHOUSE
    as_of: date | None = None
    full_extract: bool = False
    # Re-curate every raw line instead of only the objects the curate manifest lacks.
    full_curation: bool = False
    read_settings: ReadSettings = field(default_factory=ReadSettings)
    recommendations: RecommendationSettings = field(default_factory=RecommendationSettings)
    # Days at the end evaluated as a holdout (0: none; the demo asks for 7): a second model
    # build, so only the runs that report its metrics pay for it. See build_recommendations.
    holdout_days: int = 0
    # Extract beside curate and marts beside recommendations (see the module's docstring);
    # False runs one stage at a time, so that a benchmark can time each stage alone.
    side_by_side: bool = True


@dataclass(frozen=True)
class StageReport:
    """One stage's counts in and out, with the figures behind them; `seconds` from the
    stage's start to its end, so two stages that ran side by side overlap."""

    stage: str
    rows_in: int
    rows_out: int
    seconds: float
    details: Mapping[str, int]


def raw_event_sources(events: Path) -> RawEventSources:
    """`--events` as curate_events' sources: a folder holding Parquet is the streaming job's
    table (raw/events_stream), anything else is landed JSON Lines."""
    if events.is_dir() and any(events.rglob("*.parquet")):
        return RawEventSources(streamed=str(events))
    return RawEventSources(landed=str(events))


def jdbc_source(database_url: str) -> JdbcSource:
    """The JDBC form of a libpq URL or key=value string (Spark's reader needs TCP)."""
    parts = conninfo_to_dict(database_url)
    host = parts.get("host") or "localhost"
    if host.startswith("/"):
        raise ValueError("the batch jobs read PostgreSQL over TCP; give a host, not a socket")
    user = parts.get("user") or "postgres"
    endpoint = PostgresEndpoint(
        host=host,
        dbname=parts.get("dbname") or user,  # libpq's default, too
        user=user,
        password=parts.get("password"),
        port=int(parts.get("port") or DEFAULT_PORT),
        sslmode=parts.get("sslmode"),
    )
    return JdbcSource.for_endpoint(endpoint)


def shop_as_of(database_url: str) -> date:
    """The day after the shop's latest session start or order (UTC)."""
    with psycopg.connect(database_url) as conn:
        latest = conn.execute(
            "SELECT greatest((SELECT max(started_at) FROM sessions),"
            "                (SELECT max(placed_at) FROM orders))"
        ).fetchone()[0]
    if latest is None:
        raise ValueError("the shop has no sessions or orders yet: generate a store first")
    return latest.astimezone(UTC).date() + timedelta(days=1)


def quality_outcomes(spark: SparkSession, results_path: str, run_id: str) -> dict[str, tuple]:
    """(rules evaluated, rules passed) per job of one run, from the results table."""
    passed = sf.count(sf.when(sf.col("passed"), 1))
    rows = (
        spark.read.parquet(results_path)
        .filter(sf.col("run_id") == run_id)
        .groupBy("job")
        .agg(sf.count(sf.lit(1)).alias("rules"), passed.alias("passed"))
        .collect()
    )
    return {row["job"]: (row["rules"], row["passed"]) for row in rows}


def clickstream_bytes(events: Path) -> int:
    """The size of `--events` on disk: the file, or every file under the folder."""
    if events.is_dir():
        return sum(path.stat().st_size for path in events.rglob("*") if path.is_file())
    return events.stat().st_size


def is_short_run(events: Path) -> bool:
    """Whether a batch over `events` is small enough for the short-run JVM settings."""
    return clickstream_bytes(events) <= SHORT_RUN_CLICKSTREAM_BYTES


def batch_spark_session(events: Path) -> SparkSession:
    """The one session every stage of a run uses (jars resolved once, when it starts)."""
    session = local_spark_session(
        "ecom-batch", jars=ensure_spark_jars(), short_run=is_short_run(events)
    )
    session.sparkContext.setLogLevel("ERROR")
    return session


First = TypeVar("First")
Second = TypeVar("Second")


def both(
    first: Callable[[], First], second: Callable[[], Second], side_by_side: bool
) -> tuple[First, Second]:
    """Both calls' results; side by side, `first` runs on a driver thread of its own, and an
    exception of either is raised once both have ended."""
    if not side_by_side:
        return first(), second()
    with started_beside(first) as running:
        second_result = second()
        return running.result(), second_result


def run_batch(
    settings: BatchSettings,
    on_stage: Callable[[StageReport], None] = lambda report: None,
    run_id: str | None = None,
) -> list[StageReport]:
    """Run every stage; a failed quality gate raises QualityGateError and stops the run
    with the previous outputs of that stage untouched. `on_stage` hears of each stage as it
    ends; the reports come back in the pipeline's order (STAGES)."""
    spark = batch_spark_session(settings.events)
    run_id = run_id or datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    as_of = settings.as_of or shop_as_of(settings.database_url)
    reference_time = datetime.combine(as_of, datetime.min.time(), UTC)
    lake = Lake.in_folder(str(settings.lake))
    state = local_state_folder(str(settings.lake))
    metrics = JsonLinesMetrics(Path(state) / METRICS_FILE)

    def gate(job: str) -> QualityGate:
        return QualityGate(job, run_id, reference_time, lake.quality_results, metrics)

    reports: list[StageReport] = []

    def finished(
        stage: str, started: float, rows_in: int, rows_out: int, details: Mapping[str, int]
    ) -> None:
        """Report a stage as it ends (from the thread that ran it)."""
        report = StageReport(stage, rows_in, rows_out, time.perf_counter() - started, details)
        reports.append(report)
        on_stage(report)

    def extract() -> list[TableExtract]:
        started = time.perf_counter()
        extracts = run_extract(
            spark,
            jdbc_source(settings.database_url),
            lake.raw,
            state,
            gate("extract_oltp"),
            full=settings.full_extract,
            settings=settings.read_settings,
        )
        finished(
            "extract",
            started,
            sum(item.rows_changed for item in extracts),
            sum(item.rows_written for item in extracts),
            {item.table: item.rows_written for item in extracts},
        )
        return extracts

    def curate() -> dict[str, int]:
        started = time.perf_counter()
        lateness = timedelta(hours=float(DEFAULT_ALLOWED_LATENESS_HOURS))
        counts = run_curation(
            spark, raw_event_sources(settings.events), lake.curated, None, lateness,
            gate("curate_events"), state_root=state, full=settings.full_curation,
        )  # fmt: skip
        finished("curate", started, counts["received"], counts["accepted"], counts)
        return counts

    # Extract and curate write different folders; so do marts and recommendations, which
    # both only read what the first two wrote.
    extracts, counts = both(extract, curate, settings.side_by_side)

    def build() -> dict[str, int]:
        started = time.perf_counter()
        marts = run_build(spark, lake, as_of, reference_time, gate("build_marts"))
        oltp_rows = sum(item.rows_at_source for item in extracts if item.table in OLTP_TABLES)
        finished("marts", started, oltp_rows + counts["accepted"], sum(marts.values()), marts)
        return marts

    def recommend() -> None:
        started = time.perf_counter()
        reco = run_recommendations(
            spark,
            lake,
            jdbc_source(settings.database_url),
            as_of,
            run_id,
            settings.recommendations,
            settings.holdout_days,
        )
        tables = {table: reco[table] for table in RECO_COLUMNS}
        finished("recommendations", started, reco["interactions"], sum(tables.values()), tables)

    marts, _ = both(build, recommend, settings.side_by_side)

    started = time.perf_counter()
    outcomes = quality_outcomes(spark, lake.quality_results, run_id)
    finished(
        "quality",
        started,
        sum(rules for rules, _ in outcomes.values()),
        sum(passed for _, passed in outcomes.values()),
        {f"{job} warnings": rules - passed for job, (rules, passed) in outcomes.items()},
    )

    started = time.perf_counter()
    loaded = load_local_warehouse(settings.warehouse, lake)
    mart_rows = {name: rows for name, rows in loaded.items() if name in marts}
    finished("load", started, sum(marts.values()), sum(mart_rows.values()), loaded)
    return sorted(reports, key=lambda report: STAGES.index(report.stage))
