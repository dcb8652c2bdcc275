"""Seconds and CPU seconds of every `ecom demo` stage, run after run in one process.

Runs the demo's stages (local_platform/demo/pipeline.py STAGES) on a database you name,
replacing its data as `ecom demo --reset` would, `--runs` times in a row: the first run pays
for cold caches (the Spark jars, the JVM's class loading, Python's bytecode), the later ones
are "warm" as a user's second `make demo` is. Prints a table per run and the
stages side by side; asserts nothing.

    python benchmarks/bench_demo.py --database-url postgresql://.../bench_demo [--runs 2]

CPU seconds count this process, Spark's JVM, its Python workers and every process a stage
started and waited for (the ML steps), so they hardly depend on what else the machine runs.
Each run starts in a fresh process: the demo a user runs starts its own JVM.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cpu_meter import cpu_seconds


def one_run(database_url: str, workdir: Path, users: int, days: int) -> list[dict]:
    """Every stage once, in this process; (stage, seconds, CPU seconds) per stage."""
    from data_generators import GenerationSettings
    from local_platform.demo.pipeline import STAGES, stage_name
    from local_platform.demo.settings import DEMO_HISTORY_DAYS, DemoSettings

    generation = GenerationSettings(users=users, days=days, history_days=DEMO_HISTORY_DAYS)
    workdir.mkdir(parents=True, exist_ok=True)
    settings = DemoSettings(
        database_url, owns_database=False, reset=True, workdir=workdir, generation=generation
    )
    rows = []
    for stage in STAGES:
        started, cpu = time.perf_counter(), cpu_seconds()
        stage(settings)
        rows.append(
            {
                "stage": stage_name(stage),
                "seconds": time.perf_counter() - started,
                "cpu": cpu_seconds() - cpu,
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--workdir", type=Path, default=Path(".local/bench/demo"))
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--one-run", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one_run:
        rows = one_run(args.database_url, args.workdir, args.users, args.days)
        print("BENCH_DEMO " + json.dumps(rows), flush=True)
        return

    runs = []
    for number in range(1, args.runs + 1):
        started = time.perf_counter()
        output = subprocess.run(
            [sys.executable, __file__, "--one-run", *sys.argv[1:]],
            check=True,
            stdout=subprocess.PIPE,
            text=True,
        ).stdout
        line = next(text for text in output.splitlines() if text.startswith("BENCH_DEMO "))
        rows = json.loads(line.removeprefix("BENCH_DEMO "))
        seconds = time.perf_counter() - started
        runs.append((rows, seconds))
        print(f"run {number}: {seconds:.1f} s with start-up", flush=True)

    print(f"\n`ecom demo` stages, {args.users:,} users x {args.days} days")
    header = "".join(f"{f'run {n} s':>10}{'CPU s':>8}" for n in range(1, len(runs) + 1))
    print(f"{'stage':<16}{header}")
    for index, row in enumerate(runs[0][0]):
        cells = "".join(f"{rows[index]['seconds']:>10.1f}{rows[index]['cpu']:>8.1f}"
                        for rows, _ in runs)  # fmt: skip
        print(f"{row['stage']:<16}{cells}")
    totals = "".join(f"{sum(r['seconds'] for r in rows):>10.1f}{sum(r['cpu'] for r in rows):>8.1f}"
                     for rows, _ in runs)  # fmt: skip
    print(f"{'stages':<16}{totals}")
    print(f"{'process':<16}" + "".join(f"{seconds:>10.1f}{'':>8}" for _, seconds in runs))


if __name__ == "__main__":
    main()
