"""Benchmark the synthetic store: 1,000 customers x 30 days and 10,000 x 90 days.

Each size runs in its own process on a fresh database, so the peak RSS is that run's alone
(taken from the child's resource usage). Rates include the PostgreSQL load and the gzip
clickstream. Prints figures; asserts nothing.

    python benchmarks/bench_generate.py [--database-url URL]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from data_generators import GenerationSettings, generate_store
from local_platform.embedded_postgres import resolve_database_url

SIZES = ((1_000, 30), (10_000, 90))


def _child(database_url: str, users: int, days: int, events_out: Path) -> None:
    """Runs in the measured process: one generation, its result as JSON on stdout."""
    settings = GenerationSettings(users=users, days=days)
    result = generate_store(settings, database_url, events_out=events_out, progress=False)
    print(result.model_dump_json())


def _measure(server_url: str, users: int, days: int) -> dict:
    name = f"bench_generate_{users}x{days}"
    admin_db = conninfo_to_dict(server_url).get("dbname") or "postgres"
    admin = make_conninfo(server_url, dbname=admin_db)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        with tempfile.TemporaryDirectory() as scratch:
            events = Path(scratch) / "events.jsonl.gz"
            command = [sys.executable, __file__, "--child", make_conninfo(server_url, dbname=name),
                       str(users), str(days), str(events)]  # fmt: skip
            child = subprocess.Popen(command, stdout=subprocess.PIPE)
            output = child.stdout.read()
            _, status, usage = os.wait4(child.pid, 0)
            child.returncode = os.waitstatus_to_exitcode(status)
            if child.returncode != 0:
                raise SystemExit(f"generation of {users} x {days} failed ({child.returncode})")
            result = json.loads(output)
            result["events_bytes"] = events.stat().st_size
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    result["peak_rss_mb"] = usage.ru_maxrss / 1024  # Linux reports kilobytes
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="server to use (default: $DATABASE_URL/embedded)")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        url, users, days, events = args.child
        _child(url, int(users), int(days), Path(events))
        return

    server_url = resolve_database_url(args.database_url)
    header = (
        f"{'size':>14} {'elapsed s':>10} {'rows':>10} {'rows/s':>9} {'events':>10} "
        f"{'events/s':>9} {'gz MB':>7} {'peak RSS MB':>12}"
    )
    print(header)
    for users, days in SIZES:
        result = _measure(server_url, users, days)
        elapsed = result["elapsed_seconds"]
        rows = sum(result["rows_per_table"].values())
        events = sum(result["events_per_type"].values())
        print(
            f"{f'{users:,} x {days}':>14} {elapsed:>10.1f} {rows:>10,} {rows / elapsed:>9,.0f} "
            f"{events:>10,} {events / elapsed:>9,.0f} {result['events_bytes'] / 2**20:>7.1f} "
            f"{result['peak_rss_mb']:>12.0f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
