"""Seconds of curate_events folding one new day of lines into a curated history, against a
full re-curation of every line, with the outputs of both compared row for row.

The clickstream (generated once as bench_batch does, in its own database, or --source) is
split by the day events occurred: every day but the last into one landing file, the last day
into a second one, written later. Then, on Spark local[2]:

1. history: one run over the first file into a lake, keeping the manifest (a first run, so
   a full one); the lake is then copied aside;
2. --runs pairs of: incremental, the lake of 1 restored and a run folding the second file
   into it, then full, one run over both files into a fresh lake (what the scheduled
   workflow did on every run).

The curated events, sessions and quarantine of the last pair are compared in DuckDB with EXCEPT
ALL both ways. CPU seconds are those of this process, Spark's JVM and its Python workers.
Prints figures; asserts nothing:

    python benchmarks/bench_incremental_curate.py [--users 1000] [--days 30] [--source FILE]
"""

from __future__ import annotations

import argparse
import gzip
import os
import re
import shutil
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
from bench_batch import BENCH_HOME, open_clickstream, prepared_store
from cpu_meter import cpu_seconds

from contracts.lake import CURATED_PARTITIONS, Lake, local_state_folder
from data_generators import GenerationSettings
from glue_jobs.curate_events import (
    DEFAULT_ALLOWED_LATENESS_HOURS,
    RawEventSources,
    run_curation,
)
from glue_jobs.local_spark import local_spark_session
from glue_jobs.quality import QualityGate

OCCURRED_DAY = re.compile(rb'"occurred_at":\s*"(\d{4}-\d{2}-\d{2})')
# The history file lands a day before the new day's file.
HISTORY_AT = datetime(2026, 1, 1, tzinfo=UTC)
NEW_DAY_AT = HISTORY_AT + timedelta(days=1)


def split_by_last_day(source: Path, folder: Path) -> tuple[Path, Path]:
    """`history.jsonl.gz` and `new_day.jsonl.gz`: the lines of the last full day (the last
    with at least half a mean day's lines) and after it (sessions running past midnight),
    and all the others (with the lines without a readable day), written once per source."""
    history, new_day = folder / "history.jsonl.gz", folder / "new_day.jsonl.gz"
    if history.exists() and new_day.exists():
        return history, new_day
    folder.mkdir(parents=True, exist_ok=True)
    with open_clickstream(source) as lines:
        per_day = Counter(match.group(1) for line in lines if (match := OCCURRED_DAY.search(line)))
    mean = sum(per_day.values()) / len(per_day)
    last = max(day for day, lines in per_day.items() if lines >= mean / 2)
    with (
        open_clickstream(source) as lines,
        gzip.open(history, "wb", compresslevel=1) as old,
        gzip.open(new_day, "wb", compresslevel=1) as new,
    ):
        for line in lines:
            match = OCCURRED_DAY.search(line)
            (new if match and match.group(1) >= last else old).write(line)
    return history, new_day


def land(folder: Path, file: Path, at: datetime) -> None:
    """Put `file` (a hard link) into a landing folder, modified at `at`."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / file.name
    os.link(file, target)
    os.utime(target, (at.timestamp(), at.timestamp()))


def timed(step: Callable[[], dict[str, int]]) -> tuple[dict[str, int], float, float]:
    started, cpu_started = time.perf_counter(), cpu_seconds()
    counts = step()
    return counts, time.perf_counter() - started, cpu_seconds() - cpu_started


def show(name: str, timings: list[tuple[dict[str, int], float, float]]) -> None:
    counts, seconds, cpu = timings[-1]
    print(
        f"{f'{name} {len(timings)}':<14} {counts['received']:>11,} {counts['accepted']:>11,} "
        f"{seconds:>8.1f} {cpu:>7.1f}",
        flush=True,
    )


def differing_rows(one: Lake, other: Lake) -> dict[str, tuple[int, int]]:
    """Per curated table: rows only in `one`, rows only in `other` (EXCEPT ALL)."""
    differences = {}
    with duckdb.connect() as db:
        for table in CURATED_PARTITIONS:

            def scan(lake: Lake, table: str = table) -> str:
                glob = f"{lake.curated_table(table)}/**/*.parquet"
                return f"SELECT * FROM read_parquet('{glob}', hive_partitioning = true)"

            if not any(
                any(Path(lake.curated_table(table)).rglob("*.parquet")) for lake in (one, other)
            ):
                differences[table] = (0, 0)
                continue
            left, right = scan(one), scan(other)
            only = [
                db.execute(f"SELECT count(*) FROM ({a} EXCEPT ALL {b})").fetchone()[0]
                for a, b in ((left, right), (right, left))
            ]
            differences[table] = (only[0], only[1])
    return differences


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--source", type=Path, help="a clickstream JSON Lines file (gzip ok)")
    parser.add_argument("--driver-memory", default="4g")
    parser.add_argument("--runs", type=int, default=2, help="full / incremental pairs")
    args = parser.parse_args()
    generation = GenerationSettings(users=args.users, days=args.days)
    source = args.source or prepared_store(generation, prefix="bench_incremental")[1]
    work = BENCH_HOME / f"incremental_{source.name.split('.')[0]}"
    print(f"Splitting {source} by its last day (once) ...", flush=True)
    history, new_day = split_by_last_day(source, work / "split")

    spark = local_spark_session("bench-incremental", driver_memory=args.driver_memory)
    spark.sparkContext.setLogLevel("ERROR")
    lateness = timedelta(hours=DEFAULT_ALLOWED_LATENESS_HOURS)
    lakes = full_lake, incremental_lake = tuple(
        Lake.in_folder(str(work / name)) for name in ("full", "incremental")
    )
    for lake in lakes:
        shutil.rmtree(Path(lake.raw).parent, ignore_errors=True)

    def curate(lake: Lake, run_id: str, state: bool) -> dict[str, int]:
        gate = QualityGate("curate_events", run_id, NEW_DAY_AT + timedelta(days=1))
        events = RawEventSources(landed=f"{lake.raw}/events")
        state_root = local_state_folder(str(Path(lake.raw).parent)) if state else None
        return run_curation(
            spark, events, lake.curated, None, lateness, gate, state_root=state_root
        )

    full_landing, incremental_landing = (Path(lake.raw) / "events" for lake in lakes)
    land(full_landing, history, HISTORY_AT)
    land(full_landing, new_day, NEW_DAY_AT)
    land(incremental_landing, history, HISTORY_AT)
    print(f"\ncurate_events on {source.name}, Spark local[2] (driver {args.driver_memory})")
    print(f"{'run':<14} {'lines':>11} {'accepted':>11} {'seconds':>8} {'CPU s':>7}", flush=True)
    runs = {"history": [timed(lambda: curate(incremental_lake, "history", state=True))]}
    show("history", runs["history"])
    land(incremental_landing, new_day, NEW_DAY_AT)
    # The lake as the history run left it, restored before each incremental run.
    kept = {Path(incremental_lake.curated), Path(local_state_folder(str(work / "incremental")))}
    snapshot = work / "after_history"
    shutil.rmtree(snapshot, ignore_errors=True)
    for folder in kept:
        shutil.copytree(folder, snapshot / folder.name)
    for _ in range(args.runs):
        for folder in kept:
            shutil.rmtree(folder)
            shutil.copytree(snapshot / folder.name, folder)
        runs.setdefault("incremental", []).append(
            timed(lambda: curate(incremental_lake, "new-day", state=True))
        )
        show("incremental", runs["incremental"])
        shutil.rmtree(full_lake.curated, ignore_errors=True)
        runs.setdefault("full", []).append(timed(lambda: curate(full_lake, "full", state=False)))
        show("full", runs["full"])

    pairs = zip(runs["full"], runs["incremental"], strict=True)
    for number, ((_, full_s, full_cpu), (_, incremental_s, incremental_cpu)) in enumerate(pairs, 1):
        print(
            f"pair {number}: incremental / full = {incremental_s / full_s:.1%} of the wall time, "
            f"{incremental_cpu / full_cpu:.1%} of the CPU time"
        )
    for table, (only_full, only_incremental) in differing_rows(full_lake, incremental_lake).items():
        print(
            f"{table:<18} rows only in full: {only_full:,}, only in incremental: "
            f"{only_incremental:,}"
        )


if __name__ == "__main__":
    main()
