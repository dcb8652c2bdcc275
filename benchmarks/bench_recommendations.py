"""Seconds and peak memory of the build_recommendations job on a generated store (10,000
users x 90 days by default), beside build_marts on the same lake as the baseline.

The store is generated on the first run into its own database (`bench_reco_<users>x<days>`
on the server DATABASE_URL names, else the embedded one; not bench_batch.py's, which other
benchmarks may be reading) with its clickstream under .local/bench. Its lake
(.local/bench/reco_lake_<users>x<days>) is built once by the batch pipeline (`ecom batch
run`, which runs the recommendations too); later runs reuse both. Each run then times, on
one local[2] session: build_marts, the recommendations job (models, lake tables, PostgreSQL
load) and the same with the 7-day holdout evaluation. Prints figures; asserts nothing.
Goal: the job under 2 minutes.

    python benchmarks/bench_recommendations.py [--users 10000] [--days 90] [--driver-memory 4g]
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_batch import BENCH_HOME, StagePeaks, prepared_store

from contracts.lake import Lake
from data_generators import GenerationSettings
from glue_jobs.build_marts import run_build
from glue_jobs.build_recommendations import run_recommendations
from glue_jobs.job_runtime import cutoff_of
from glue_jobs.local_spark import ensure_spark_jars, local_spark_session
from glue_jobs.quality import QualityGate
from glue_jobs.transforms.recommendations import RecommendationSettings
from local_platform.batch_pipeline import BatchSettings, jdbc_source, run_batch, shop_as_of


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--driver-memory", default="4g")
    args = parser.parse_args()
    url, events = prepared_store(
        GenerationSettings(users=args.users, days=args.days), prefix="bench_reco"
    )
    spark = local_spark_session(
        "bench-recommendations", driver_memory=args.driver_memory, jars=ensure_spark_jars()
    )
    spark.sparkContext.setLogLevel("ERROR")
    root = BENCH_HOME / f"reco_lake_{args.users}x{args.days}"
    if not (root / "curated").exists():
        print("Building the lake with the batch pipeline (once) ...", flush=True)
        started = time.perf_counter()
        run_batch(
            BatchSettings(
                database_url=url, events=events, lake=root, warehouse=root / "warehouse.duckdb"
            )
        )
        print(f"  built in {time.perf_counter() - started:.0f} s", flush=True)
    lake = Lake.in_folder(str(root))
    as_of = shop_as_of(url)
    source = jdbc_source(url)
    settings = RecommendationSettings()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")

    def marts() -> object:
        gate = QualityGate("build_marts", f"bench-{stamp}", cutoff_of(as_of))
        return run_build(spark, lake, as_of, cutoff_of(as_of), gate)

    runs = {
        "build_marts (baseline)": marts,
        "build_recommendations": lambda: run_recommendations(
            spark, lake, source, as_of, f"bench-{stamp}-a", settings
        ),
        "  with 7-day holdout": lambda: run_recommendations(
            spark, lake, source, as_of, f"bench-{stamp}-b", settings, holdout_days=7
        ),
    }
    figures: dict[str, tuple[float, int]] = {}
    with StagePeaks() as peaks:
        for name, job in runs.items():
            spark.catalog.clearCache()
            peaks.lap()
            started = time.perf_counter()
            outcome = job()
            figures[name] = (time.perf_counter() - started, peaks.lap())
            print(f"{name}: {outcome}", flush=True)

    baseline = figures["build_marts (baseline)"][0]
    print(f"\nRecommendations on {args.users:,} users x {args.days} days (as of {as_of})")
    print(f"{'job':<24} {'seconds':>8} {'x marts':>8} {'peak RSS':>9}")
    for name, (seconds, peak) in figures.items():
        print(f"{name:<24} {seconds:>8.1f} {seconds / baseline:>8.2f} {peak / 2**20:>6,.0f} MB")


if __name__ == "__main__":
    main()
