"""rows/s and peak memory of each batch job on a generated store (10,000 users x 90 days).

The store is generated once into its own database (`bench_batch_<users>x<days>` on the server
DATABASE_URL names, else the embedded one) with its clickstream under .local/bench; later
runs reuse both. Each run then takes a fresh lake and runs the pipeline of `ecom batch run`
(full extract and curate, marts and recommendations, quality, load into DuckDB), timing
every stage. Prints figures; asserts nothing.

    python benchmarks/bench_batch.py [--users 10000] [--days 90] [--driver-memory 4g]
                                     [--one-at-a-time]

The pipeline runs extract beside curate and marts beside recommendations, as `ecom batch run`
does; each stage's seconds then overlap its partner's, and CPU and memory are only told per
run. `--one-at-a-time` runs the stages one after the other, to time each one alone with its
own CPU seconds and peak memory.

Rates are rows in per second of wall time (the stage's input rows, as the pipeline counts
them); CPU seconds are those of this process, Spark's JVM and its Python workers during the
stage, steadier than wall time when other work shares the machine. Peak memory is the
resident size during the stage of this Python process (DuckDB loads in it), Spark's JVM and
its Python workers, summed. The JVM keeps the heap it has grown, so a stage's peak includes
what earlier stages left allocated.
"""

from __future__ import annotations

import argparse
import gzip
import shutil
import sys
import threading
import time
from pathlib import Path
from typing import BinaryIO

import psutil
import psycopg
from psycopg.conninfo import make_conninfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cpu_meter import cpu_seconds

from contracts.oltp.migrator import apply_migrations
from data_generators import GenerationSettings, generate_store
from glue_jobs.local_spark import ensure_spark_jars, local_spark_session
from local_platform.batch_pipeline import BatchSettings, StageReport, is_short_run, run_batch
from local_platform.embedded_postgres import resolve_database_url

BENCH_HOME = Path(__file__).resolve().parent.parent / ".local" / "bench"


def _is_engine(process: psutil.Process) -> bool:
    """Spark's JVM or one of its Python workers. The JVM also forks short-lived helpers
    (without javac, Hadoop's local file system runs `chmod` for every file it writes); before
    they exec, they show the JVM's whole resident size, so counting them would double it."""
    if process.name() == "java":
        return True
    return process.name().startswith("python") and "pyspark" in " ".join(process.cmdline())


class StagePeaks:
    """Samples the resident memory of this process plus Spark's JVM and Python workers;
    `lap()` returns the peak since the last lap."""

    def __init__(self) -> None:
        self._peak = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            for process in [me, *me.children(recursive=True)]:
                try:
                    if process is me or _is_engine(process):
                        total += process.memory_info().rss
                except psutil.Error:
                    continue
            with self._lock:
                self._peak = max(self._peak, total)
            time.sleep(0.05)

    def lap(self) -> int:
        with self._lock:
            peak, self._peak = self._peak, 0
        return peak

    def __enter__(self) -> StagePeaks:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def open_clickstream(path: Path) -> BinaryIO:
    """A clickstream file's lines as bytes, gzip or not."""
    return gzip.open(path, "rb") if path.suffix == ".gz" else path.open("rb")


def prepared_store(settings: GenerationSettings, prefix: str = "bench_batch") -> tuple[str, Path]:
    """A benchmark's database (`<prefix>_<users>x<days>`) and clickstream, generated on the
    first run only."""
    server = resolve_database_url(progress=False)
    name = f"{prefix}_{settings.users}x{settings.days}"
    events = BENCH_HOME / f"{name}.jsonl.gz"
    with psycopg.connect(server, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    url = make_conninfo(server, dbname=name)
    apply_migrations(url)
    with psycopg.connect(url) as conn:
        generated = conn.execute(
            "SELECT EXISTS (SELECT 1 FROM synthetic.generation_runs"
            " WHERE users = %s AND days = %s AND seed = %s)",
            (settings.users, settings.days, settings.seed),
        ).fetchone()[0]
    if not (generated and events.exists()):
        print(f"Generating {settings.users:,} users x {settings.days} days (once) ...", flush=True)
        started = time.perf_counter()
        BENCH_HOME.mkdir(parents=True, exist_ok=True)
        generate_store(settings, url, events_out=events, reset=True, progress=False)
        print(f"  generated in {time.perf_counter() - started:.0f} s", flush=True)
    return url, events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--driver-memory", default="4g")
    parser.add_argument("--one-at-a-time", action="store_true")
    args = parser.parse_args()
    url, events = prepared_store(GenerationSettings(users=args.users, days=args.days))

    lake = BENCH_HOME / "lake"
    warehouse = BENCH_HOME / "warehouse.duckdb"
    shutil.rmtree(lake, ignore_errors=True)
    warehouse.unlink(missing_ok=True)
    started = time.perf_counter()
    spark = local_spark_session(
        "bench-batch",
        driver_memory=args.driver_memory,
        jars=ensure_spark_jars(),
        short_run=is_short_run(events),
    )
    spark.sparkContext.setLogLevel("ERROR")
    print(f"Spark session (local[2], driver {args.driver_memory}): "
          f"{time.perf_counter() - started:.1f} s", flush=True)  # fmt: skip

    rows: list[tuple[StageReport, int, float]] = []
    cpu_at = [cpu_seconds()]

    def finished(report: StageReport) -> None:
        cpu_at.append(cpu_seconds())
        rows.append((report, peaks.lap(), cpu_at[-1] - cpu_at[-2]))

    batch = BatchSettings(
        database_url=url,
        events=events,
        lake=lake,
        warehouse=warehouse,
        side_by_side=not args.one_at_a_time,
    )
    started = time.perf_counter()
    with StagePeaks() as peaks:
        peaks.lap()
        run_batch(batch, on_stage=finished)
        run_peak = max(peak for _, peak, _ in rows)
    run_seconds = time.perf_counter() - started

    print(f"\nBatch jobs on {args.users:,} users x {args.days} days")
    print(f"{'stage':<8} {'rows in':>12} {'rows out':>12} {'seconds':>8} {'rows/s':>10} "
          f"{'CPU s':>7} {'peak RSS':>9}")  # fmt: skip
    for report, peak, cpu in rows:
        rate = report.rows_in / report.seconds if report.seconds else 0
        own = (
            f"{cpu:>7.1f} {peak / 2**20:>7,.0f} MB" if args.one_at_a_time else f"{'-':>7} {'-':>9}"
        )
        print(
            f"{report.stage:<8} {report.rows_in:>12,} {report.rows_out:>12,} "
            f"{report.seconds:>8.1f} {rate:>10,.0f} {own}"
        )
    total_cpu = cpu_at[-1] - cpu_at[0]
    print(
        f"{'run':<8} {'':>12} {'':>12} {run_seconds:>8.1f} {'':>10} {total_cpu:>7.1f} "
        f"{run_peak / 2**20:>7,.0f} MB"
    )


if __name__ == "__main__":
    main()
