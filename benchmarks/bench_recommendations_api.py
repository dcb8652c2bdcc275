"""Latency of GET /v1/recommendations on the local API server at a fixed arrival rate, beside
the collector's GET /v1/health on the same server as the baseline.

    python benchmarks/bench_recommendations_api.py [--rate 200] [--duration 20]
        [--products 5000] [--users 10000] [--database-url URL]

A fresh database gets a synthetic shop and batch run (products in 50 categories, 20 similar
products per product and relation, 20 batch items per customer, live counters, and a live
session of 8 products for half the customers and for 2,000 devices). The server (the
Lambdas' own handlers behind `ecom api serve`'s HTTP server, one request at a time as in one
execution environment) runs in its own process, signed in as the read-only reco_api role.

The load is open-loop: request i is due at start + i / rate whatever the earlier ones do, and
its latency runs from that due time to the end of its answer, so a server that falls behind
shows its queue in the figures. Requests mix signed-in customers (with and without a
session), devices with a session, unknown devices, and a product page for half of them.
Goal: p99 < 50 ms at 200 requests/s.

Latency depends on what else the machine runs; the CPU each request costs does not. So the
CPU time of the server process and of its PostgreSQL backend (from /proc) is reported per
request too, with the rate one idle core could serve at that cost.
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import os
import random
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.queues import Queue
from pathlib import Path

import numpy as np
import psycopg
from psycopg.conninfo import make_conninfo
from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_stream import fresh_database  # noqa: E402

from contracts.oltp.roles import RECOMMENDATIONS_API_USER  # noqa: E402
from lambdas.collector.api import PublishError, create_app  # noqa: E402
from lambdas.collector.batch import KafkaRecord, Topics  # noqa: E402
from lambdas.recommendations import api as recommendations  # noqa: E402
from lambdas.recommendations.database import ReadOnlyDatabase  # noqa: E402
from local_platform.collector_server import CollectorServer, by_path  # noqa: E402
from local_platform.embedded_postgres import resolve_database_url  # noqa: E402

CATEGORIES = 50
SIMILAR_PER_RELATION = 20
BATCH_ITEMS = 20
SESSION_ROWS = 8
DEVICES = 2_000
WARM_UP_REQUESTS = 200
console = Console(stderr=True)


def load_shop(url: str, products: int, users: int) -> None:
    """The synthetic shop, batch run and live sessions, built server-side (deterministic)."""
    statements = [
        "SELECT setseed(0.42)",
        f"INSERT INTO categories (id, name, slug) SELECT c, 'Category ' || c, 'category-' || c"
        f" FROM generate_series(1, {CATEGORIES}) c",
        f"INSERT INTO products (id, sku, name, category_id, brand, price, cost, status)"
        f" SELECT p, 'SKU-' || p, 'Product ' || p, 1 + p % {CATEGORIES}, 'Acme', 10, 6,"
        f" CASE WHEN p % 50 = 0 THEN 'discontinued' ELSE 'active' END"
        f" FROM generate_series(1, {products}) p",
        f"INSERT INTO users (id, email, first_name, last_name, country_code, city,"
        f" acquisition_channel, signed_up_at) SELECT u, 'u' || u || '@example.com', 'A', 'B',"
        f" 'DE', 'Berlin', 'direct', '2026-01-01' FROM generate_series(1, {users}) u",
        f"INSERT INTO reco.similar_products SELECT p, relation, r,"
        f" 1 + floor(random() * {products})::bigint, 1.0 / r, 100 - r"
        f" FROM generate_series(1, {products}) p,"
        f" unnest(ARRAY['viewed_together', 'bought_together']) relation,"
        f" generate_series(1, {SIMILAR_PER_RELATION}) r",
        f"INSERT INTO reco.customer_recommendations SELECT u, r,"
        f" 1 + floor(random() * {products})::bigint, 1.0 / r,"
        f" (ARRAY['bought_together', 'viewed_together', 'bought_again', 'popular_in_category',"
        f" 'popular'])[1 + r % 5],"
        f" CASE WHEN r % 5 < 3 THEN 1 + floor(random() * {products})::bigint END,"
        f" CASE WHEN r % 5 = 3 THEN 1 + r % {CATEGORIES} END"
        f" FROM generate_series(1, {users}) u, generate_series(1, {BATCH_ITEMS}) r",
        "INSERT INTO reco.popular_products"
        " SELECT id, category_id, score, row_number() OVER (ORDER BY score DESC, id),"
        " row_number() OVER (PARTITION BY category_id ORDER BY score DESC, id)"
        " FROM (SELECT id, category_id, random() AS score FROM products) ranked",
        "INSERT INTO reco.batch_runs (run_id, as_of, similar_products, customer_recommendations,"
        " popular_products) SELECT 'bench', current_date,"
        " (SELECT count(*) FROM reco.similar_products),"
        " (SELECT count(*) FROM reco.customer_recommendations),"
        " (SELECT count(*) FROM reco.popular_products)",
        "INSERT INTO realtime.product_counters (product_id, views, cart_adds, units_added,"
        " units_removed, units_sold, revenue, last_event_at)"
        " SELECT id, floor(random() * 500), floor(random() * 50), 0, 0, floor(random() * 20), 0,"
        " now() FROM products",
        f"INSERT INTO realtime.visitor_recent_products"
        f" SELECT DISTINCT ON (visitor, product) visitor, product,"
        f" CASE WHEN k % 4 = 0 THEN 'cart' ELSE 'view' END, now() - k * interval '1 minute'"
        f" FROM (SELECT visitor, k, 1 + floor(random() * {products})::bigint AS product"
        f"       FROM (SELECT 'u:' || u AS visitor FROM generate_series(1, {users} / 2) u"
        f"             UNION ALL SELECT 'a:' || md5('device' || d)::uuid"
        f"             FROM generate_series(1, {DEVICES}) d) visitors,"
        f"       generate_series(1, {SESSION_ROWS}) k) drawn",
        "ANALYZE",
    ]
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)  # type: ignore[arg-type]  (built from integers only)


def device(number: int) -> str:
    """The anonymous id of synthetic device `number` (as load_shop keys its sessions)."""
    return str(uuid.UUID(hashlib.md5(f"device{number}".encode()).hexdigest()))


def request_targets(count: int, products: int, users: int, seed: int = 7) -> list[str]:
    """The mix of queries, deterministic for a seed."""
    rng = random.Random(seed)
    targets = []
    for _ in range(count):
        draw = rng.random()
        if draw < 0.4:
            query = f"user_id={rng.randint(1, users // 2)}"  # customer with a session
        elif draw < 0.6:
            query = f"user_id={rng.randint(users // 2 + 1, users)}"  # customer, no session
        elif draw < 0.85:
            query = f"anonymous_id={device(rng.randint(1, DEVICES))}"
        else:
            query = f"anonymous_id={uuid.UUID(int=rng.getrandbits(128), version=4)}"
        if rng.random() < 0.5:
            query += f"&product_id={rng.randint(1, products)}"
        targets.append(f"{recommendations.RECOMMENDATIONS_PATH}?{query}&limit=10")
    return targets


class _NoBroker:
    """The baseline serves GET /v1/health only, which never publishes."""

    def publish(self, records: list[KafkaRecord]) -> None:
        raise PublishError("no broker in this benchmark")


def serve(database_url: str, ready: Queue) -> None:
    """The local API server (its own process): recommendations as reco_api, health."""
    database = ReadOnlyDatabase(lambda: make_conninfo(database_url, user=RECOMMENDATIONS_API_USER))
    collector = create_app(_NoBroker(), Topics(events="unused", dead_letters="unused"))
    handler = by_path(
        {recommendations.RECOMMENDATIONS_PATH: recommendations.create_app(database).resolve},
        collector.resolve,
    )
    server = CollectorServer("127.0.0.1", 0, handler)
    ready.put(server.url)
    server.serve_forever()


@dataclass(frozen=True)
class RunResult:
    latencies_ms: np.ndarray
    failures: int
    wall_s: float
    server_cpu_s: float
    database_cpu_s: float


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU time of a process so far (Linux /proc); 0 without a process."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def backend_pid(database_url: str) -> int | None:
    """The PostgreSQL backend serving the recommendations connection (after the warm-up)."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = 'recommendations_api'"
        ).fetchone()
    return row[0] if row else None


def run_at_rate(
    base_url: str,
    targets: list[str],
    rate: float,
    label: str,
    pids: tuple[int | None, int | None] = (None, None),
) -> RunResult:
    """Send targets[i] at start + i / rate from a thread pool; latency from the due time.
    `pids`: the server process and its database backend, whose CPU time is measured."""
    cpu_before = [cpu_seconds(pid) for pid in pids]
    latencies = np.zeros(len(targets))
    failures = 0
    lock = threading.Lock()

    def fetch(index: int, due: float) -> None:
        nonlocal failures
        try:
            with urllib.request.urlopen(base_url + targets[index], timeout=10) as response:
                response.read()
                ok = response.status == 200
        except (urllib.error.URLError, OSError):
            ok = False
        latencies[index] = (time.perf_counter() - due) * 1000
        if not ok:
            with lock:
                failures += 1

    start = time.perf_counter() + 0.1
    with ThreadPoolExecutor(max_workers=64) as pool:
        for index in range(len(targets)):
            due = start + index / rate
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            pool.submit(fetch, index, due)
            if index and index % int(rate * 5) == 0:
                console.print(f"  {label}: {index:,} / {len(targets):,} sent")
    wall_s = time.perf_counter() - start
    server_cpu, database_cpu = (
        cpu_seconds(pid) - b for pid, b in zip(pids, cpu_before, strict=True)
    )
    return RunResult(latencies, failures, wall_s, server_cpu, database_cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=200.0, help="requests per second")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per route")
    parser.add_argument("--products", type=int, default=5_000)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    if args.rate <= 0 or args.duration <= 0 or args.products < 100 or args.users < 2:
        parser.error("rate and duration must be positive, products >= 100, users >= 2")

    server_url = resolve_database_url(args.database_url)
    count = int(args.rate * args.duration)
    with fresh_database(server_url) as url:
        started = time.perf_counter()
        load_shop(url, args.products, args.users)
        console.print(f"shop loaded in {time.perf_counter() - started:.1f} s")
        ready: Queue = multiprocessing.get_context("spawn").Queue()
        server = multiprocessing.get_context("spawn").Process(
            target=serve, args=(url, ready), daemon=True
        )
        server.start()
        try:
            base_url = ready.get(timeout=60)
            targets = request_targets(count + WARM_UP_REQUESTS, args.products, args.users)
            run_at_rate(base_url, targets[:WARM_UP_REQUESTS], args.rate, "warm-up")
            pids = (server.pid, backend_pid(url))
            health = run_at_rate(
                base_url, ["/v1/health"] * count, args.rate, "GET /v1/health", (server.pid, None)
            )
            reco = run_at_rate(
                base_url, targets[WARM_UP_REQUESTS:], args.rate, "recommendations", pids
            )
        finally:
            server.terminate()
            server.join()

    table = Table(title=f"Local API at {args.rate:,.0f} requests/s for {args.duration:.0f} s")
    columns = ("route", "requests", "failed", "p50 ms", "p90 ms", "p99 ms", "max ms")
    columns += ("CPU ms/req", "server", "database", "req/s/core")
    for column in columns:
        table.add_column(column, justify="right" if column != "route" else "left")
    for name, result in (("GET /v1/health", health), ("GET /v1/recommendations", reco)):
        p50, p90, p99 = np.percentile(result.latencies_ms, [50, 90, 99])
        requests = len(result.latencies_ms)
        server_ms = result.server_cpu_s * 1000 / requests
        database_ms = result.database_cpu_s * 1000 / requests
        table.add_row(
            name,
            f"{len(result.latencies_ms):,}",
            str(result.failures),
            f"{p50:.1f}",
            f"{p90:.1f}",
            f"{p99:.1f}",
            f"{result.latencies_ms.max():.1f}",
            f"{server_ms + database_ms:.2f}",
            f"{server_ms:.2f}",
            f"{database_ms:.2f}",
            f"{1000 / (server_ms + database_ms):,.0f}",
        )
    Console(width=160).print(table)
    print("CPU ms/req: the server process's and its PostgreSQL backend's CPU time per request;")
    print("req/s/core: the rate one idle core could serve at that cost.")
    ratio_p50 = np.percentile(reco.latencies_ms, 50) / np.percentile(health.latencies_ms, 50)
    ratio_p99 = np.percentile(reco.latencies_ms, 99) / np.percentile(health.latencies_ms, 99)
    print(f"recommendations / health: p50 x{ratio_p50:.2f}, p99 x{ratio_p99:.2f}")
    print(f"goal: recommendations p99 < 50 ms at 200 requests/s ({args.products:,} products,")
    print(f"{args.users:,} customers, {CATEGORIES} categories)")
    print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
