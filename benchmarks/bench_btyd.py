"""Fit time and scoring throughput of the BG/NBD and Gamma-Gamma models, beside lifetimes.

Fit: both models on CDNOW master (23,570 customers, calibration to 1997-09-30, weeks), the
median of several runs, from the RFM summary (its own time printed apart); lifetimes fits
the same summary in the same run as the baseline. Scoring: customers simulated from the
master fit, scored for expected purchases in the next 13 weeks (the conditional expectation
alone, then with P(alive), expected spend and a 12-month discounted CLV), and lifetimes'
conditional expectation on the same customers. Goals: fit < 2 s; 1,000,000 customers < 60 s.
Prints figures; asserts nothing.

    python benchmarks/bench_btyd.py [--runs 5] [--customers 10000 100000 1000000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from lifetimes import BetaGeoFitter, GammaGammaFitter

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sagemaker_pipelines.models import cdnow
from sagemaker_pipelines.models.btyd import (
    BgNbd,
    GammaGamma,
    discounted_clv,
    fit_bgnbd,
    fit_gamma_gamma,
)
from sagemaker_pipelines.models.simulation import simulate_bgnbd, simulate_mean_spend
from sagemaker_pipelines.models.transactions import clean_transactions, rfm_summary

HORIZON_WEEKS = 13.0


def median_seconds(work: Callable[[], object], runs: int) -> float:
    """The median wall time of `runs` calls of work."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def fit_ours(customers: pd.DataFrame) -> tuple[BgNbd, GammaGamma]:
    frequency, value = customers["frequency"], customers["monetary_value"]
    bgnbd = fit_bgnbd(frequency, customers["recency"], customers["T"]).params
    return bgnbd, fit_gamma_gamma(frequency, value).params


def fit_lifetimes(customers: pd.DataFrame) -> None:
    BetaGeoFitter().fit(customers["frequency"], customers["recency"], customers["T"])
    repeat = customers[(customers["frequency"] > 0) & (customers["monetary_value"] > 0)]
    GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])


def score_all(bgnbd: BgNbd, spend: GammaGamma, rfm: tuple[np.ndarray, ...]) -> None:
    """Everything a scoring run computes per customer."""
    frequency, recency, age, value = rfm
    bgnbd.conditional_expected_purchases(HORIZON_WEEKS, frequency, recency, age)
    bgnbd.p_alive(frequency, recency, age)
    spend.expected_average_spend(frequency, value)
    discounted_clv(bgnbd, spend, frequency, recency, age, value, unit_days=cdnow.UNIT_DAYS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--customers", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    args = parser.parse_args()

    started = time.perf_counter()
    log, _ = clean_transactions(
        cdnow.read_cdnow("master"), duplicates="keep", date_format=cdnow.DATE_FORMAT
    )
    customers = rfm_summary(log, cdnow.CALIBRATION_END, unit_days=cdnow.UNIT_DAYS).customers
    summary_seconds = time.perf_counter() - started
    print(f"CDNOW master: {len(log):,} transactions, {len(customers):,} customers")
    print(f"  RFM summary (clean + summarize)            {summary_seconds:6.2f} s")
    bgnbd, spend = fit_ours(customers)
    ours = median_seconds(lambda: fit_ours(customers), args.runs)
    theirs = median_seconds(lambda: fit_lifetimes(customers), max(1, args.runs // 2))
    print(f"  fit BG/NBD + Gamma-Gamma, median of {args.runs}      {ours:6.2f} s")
    print(f"  lifetimes 0.11.3 on the same summary         {theirs:6.2f} s")
    print(f"  {bgnbd}\n  {spend}")

    rng = np.random.default_rng(0)
    print(f"Scoring customers simulated from that fit, T uniform 1-78 weeks ({args.runs} runs):")
    headings = ["E[Y(13)] only", "all quantities", "lifetimes E[Y(13)]"]
    print(f"  {'customers':>10} " + " ".join(f"{heading:>22}" for heading in headings))
    for size in args.customers:
        age = rng.uniform(1, 78, size)
        frequency, recency = simulate_bgnbd(bgnbd, age, rng)
        value = simulate_mean_spend(spend, frequency, rng)
        seconds = score_seconds(bgnbd, spend, (frequency, recency, age, value), args.runs)
        cells = [f"{s:6.2f} s {size / s:>10,.0f}/s" for s in seconds]
        print(f"  {size:>10,} " + " ".join(f"{cell:>22}" for cell in cells))


def score_seconds(
    bgnbd: BgNbd, spend: GammaGamma, rfm: tuple[np.ndarray, ...], runs: int
) -> tuple[float, float, float]:
    """Median seconds for E[Y(13)] alone, for every quantity, and for lifetimes' E[Y(13)]."""
    oracle = BetaGeoFitter()
    oracle.params_ = pd.Series({"r": bgnbd.r, "alpha": bgnbd.alpha, "a": bgnbd.a, "b": bgnbd.b})
    return (
        median_seconds(lambda: bgnbd.conditional_expected_purchases(HORIZON_WEEKS, *rfm[:3]), runs),
        median_seconds(lambda: score_all(bgnbd, spend, rfm), runs),
        median_seconds(
            lambda: oracle.conditional_expected_number_of_purchases_up_to_time(
                HORIZON_WEEKS, *rfm[:3]
            ),
            1,
        ),
    )


if __name__ == "__main__":
    main()
