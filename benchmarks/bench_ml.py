"""Speed and memory of the customer models: the CLV fit, churn training, and scoring.

- Fit: BG/NBD + Gamma-Gamma on CDNOW master (23,570 customers, calibration to 1997-09-30),
  median of --runs (goal < 2 s).
- Training: the churn classifier and CLV models (train_bundle) on a simulated CDNOW-like shop
  of --train-customers (tests/unit/cdnow_like_shops.py), stacked cutoffs as the prepare step
  builds them.
- Scoring, at each of --customers: score_customers (every output column, top drivers
  included) in wall and CPU seconds and customers per CPU second, its peak traced memory
  (tracemalloc, a second pass) and the process's peak RSS; and the drivers alone:
  ChurnModel.top_drivers beside the per-feature algorithm it replaced
  (tests/unit/drivers_reference.py) on the same customers, in CPU seconds, with their ratio.
  The largest size's CPU time is extrapolated linearly to 1,000,000 customers and divided by
  2 cores (goal: < 60 s on 2 cores).

The machine's cores may be shared: CPU seconds (time.process_time) are steadier than wall
seconds there; compare the ratios of one run, not seconds across runs.
Prints figures; asserts nothing.

    python benchmarks/bench_ml.py [--runs 3] [--customers 10000 100000] [--threads 1]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import pandas as pd
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "unit")]

from cdnow_like_shops import cdnow_like_shop  # noqa: E402
from drivers_reference import per_feature_drivers  # noqa: E402

from sagemaker_pipelines.models import cdnow  # noqa: E402
from sagemaker_pipelines.models.btyd import fit_bgnbd, fit_gamma_gamma  # noqa: E402
from sagemaker_pipelines.models.bundle import ModelBundle, train_bundle  # noqa: E402
from sagemaker_pipelines.models.datasets import split_examples  # noqa: E402
from sagemaker_pipelines.models.features import build_features  # noqa: E402
from sagemaker_pipelines.models.scoring import score_customers, scoring_day  # noqa: E402
from sagemaker_pipelines.models.transactions import (  # noqa: E402
    DATE,
    clean_transactions,
    rfm_summary,
)

HORIZON_DAYS = 90
SHOP_END = "2025-09-01"
ACQUISITION_DAYS = 365
GOAL_CUSTOMERS = 1_000_000
GOAL_CORES = 2
T = TypeVar("T")


def timed(work: Callable[[], T]) -> tuple[float, float, T]:
    """Wall seconds, CPU seconds of this process (all its threads) and the result."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def median_seconds(work: Callable[[], object], runs: int) -> tuple[float, float]:
    """Median wall and CPU seconds of `runs` calls."""
    times = [timed(work)[:2] for _ in range(runs)]
    return statistics.median(t[0] for t in times), statistics.median(t[1] for t in times)


def fit_cdnow(runs: int) -> None:
    log, _ = clean_transactions(
        cdnow.read_cdnow("master"), duplicates="keep", date_format=cdnow.DATE_FORMAT
    )
    summary = rfm_summary(log, cdnow.CALIBRATION_END, unit_days=cdnow.UNIT_DAYS).customers

    def fit() -> None:
        fit_bgnbd(summary["frequency"], summary["recency"], summary["T"])
        repeat = summary[summary["frequency"] > 0]
        fit_gamma_gamma(repeat["frequency"], repeat["monetary_value"])

    wall, cpu = median_seconds(fit, runs)
    print(
        f"CDNOW master, {len(summary):,} customers: BG/NBD + Gamma-Gamma fit "
        f"{wall:.2f} s wall, {cpu:.2f} s CPU"
    )


def train(customers: int) -> ModelBundle:
    shop = cdnow_like_shop(customers, ACQUISITION_DAYS, SHOP_END, seed=3)
    split_seconds, _, examples = timed(lambda: split_examples(shop.log, horizon_days=HORIZON_DAYS))
    seconds, cpu, bundle = timed(
        lambda: train_bundle(
            examples.train, shop.log, examples.cutoff, HORIZON_DAYS, datetime.now(UTC)
        )
    )
    print(
        f"Training on {customers:,} customers ({len(examples.train):,} examples): "
        f"examples {split_seconds:.1f} s, models {seconds:.1f} s wall, {cpu:.1f} s CPU"
    )
    return bundle


def score(
    bundle: ModelBundle, customers: int, runs: int, reference: bool
) -> tuple[float, list[str]]:
    """CPU seconds per customer, and one table row: scoring and drivers at `customers`."""
    log = cdnow_like_shop(customers, ACQUISITION_DAYS, SHOP_END, seed=5).log
    as_of = log[DATE].max().normalize() + pd.Timedelta(days=1)

    def score_all() -> pd.DataFrame:
        return score_customers(
            bundle,
            log,
            as_of,
            churn_model_version="1",
            clv_model_version="1",
            scored_at=datetime.now(UTC),
        )

    wall, cpu = median_seconds(score_all, runs)
    tracemalloc.start()
    scored = score_all()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    day = scoring_day(log, as_of)
    features = build_features(log, day, horizon_days=bundle.horizon_days).frame.sort_index()
    drivers = median_seconds(lambda: bundle.churn.top_drivers(features), runs)[1]
    cells = [
        f"{len(scored):,}",
        f"{wall:.1f} s",
        f"{cpu:.1f} s",
        f"{len(scored) / cpu:,.0f}/s",
        f"{peak / 2**20:.0f} MiB",
        f"{rss:.0f} MiB",
        f"{drivers:.1f} s",
    ]
    if reference:
        before = timed(lambda: per_feature_drivers(bundle.churn, features, 3))[1]
        cells += [f"{before:.1f} s", f"{before / drivers:.2f}x"]
    return cpu / len(scored), cells


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--train-customers", type=int, default=10_000)
    parser.add_argument("--customers", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument(
        "--reference-max",
        type=int,
        default=100_000,
        help="time the per-feature drivers up to this many customers",
    )
    parser.add_argument("--threads", type=int, help="OpenMP/BLAS threads (default: all)")
    args = parser.parse_args()

    with threadpool_limits(args.threads):
        fit_cdnow(args.runs)
        bundle = train(args.train_customers)
        headings = (
            "customers", "wall", "CPU", "per CPU-s", "peak traced", "peak RSS",
            "drivers CPU", "per-feature", "speed-up",
        )  # fmt: skip
        print("  ".join(f"{heading:>11}" for heading in headings))
        for size in args.customers:
            per_customer, cells = score(bundle, size, args.runs, size <= args.reference_max)
            print("  ".join(f"{cell:>11}" for cell in cells))
    estimate = per_customer * GOAL_CUSTOMERS / GOAL_CORES
    print(
        f"Extrapolated from {args.customers[-1]:,}: {GOAL_CUSTOMERS:,} customers in "
        f"{estimate:.0f} s on {GOAL_CORES} otherwise idle cores (CPU time / cores; goal < 60 s)"
    )


if __name__ == "__main__":
    main()
