"""The customer models on generated shops: the training pipeline's metrics, and where the CLV
holdout error comes from.

For each seed, the shop is generated in memory (no database), its orders and tickets go
through the prepare, train and evaluate steps' functions (placed_transactions,
service_events, split_examples, train_bundle, evaluation_report), and the script prints:

- churn AUC beside the BG/NBD and recency baselines, Brier, CLV holdout purchase and revenue
  errors (signed) and the revenue error of "last period repeats";
- the CLV error taken apart with the generator's ground truth (synthetic.customer_profiles):
  expected against actual holdout purchases by persona and by whether the customer had gone
  quiet before the cutoff or went quiet in the holdout; the spend error alone (Gamma-Gamma's
  expected spend times the purchases actually made, against the revenue actually made); the
  largest customer's share of the predicted revenue;
- orders per 30 days around the window's first day, to check that the history before the
  window runs at the rates the window does.

    python benchmarks/bench_ml_shops.py [--seeds 42 7 11] [--users 1000] [--days 30]
        [--history-days 365]

The defaults are the demo's shop. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from generated_shop import MemoryRows  # noqa: E402

from data_generators import GenerationSettings  # noqa: E402
from data_generators.sink import TABLE_COLUMNS, EventLog  # noqa: E402
from data_generators.store import StoreRun  # noqa: E402
from sagemaker_pipelines.models.bundle import train_bundle  # noqa: E402
from sagemaker_pipelines.models.datasets import split_examples  # noqa: E402
from sagemaker_pipelines.models.evaluation import btyd_holdout_prediction  # noqa: E402
from sagemaker_pipelines.models.evaluation_report import evaluation_report  # noqa: E402
from sagemaker_pipelines.models.orders import placed_transactions  # noqa: E402
from sagemaker_pipelines.models.service import service_events  # noqa: E402
from sagemaker_pipelines.models.transactions import DATE, rfm_summary  # noqa: E402

HORIZON_DAYS = 90
TIMESTAMPS = ("placed_at", "refunded_at", "updated_at", "opened_at", "churned_at")


def generated_tables(settings: GenerationSettings) -> dict[str, pd.DataFrame]:
    """The shop's orders, tickets and ground-truth profiles, timestamps parsed (UTC)."""
    rows = MemoryRows()
    StoreRun(settings, rows, EventLog(None)).run(progress=False)
    tables = {}
    for table in ("orders", "support_tickets", "synthetic.customer_profiles"):
        frame = pd.DataFrame(rows.tables[table], columns=TABLE_COLUMNS[table])
        for column in TIMESTAMPS:
            if column in frame.columns:
                frame[column] = pd.to_datetime(frame[column], utc=True)
        tables[table] = frame
    return tables


def expected_against_actual(groups: pd.Series, expected: np.ndarray, actual: pd.Series) -> str:
    table = pd.DataFrame({"group": groups, "expected": expected, "actual": actual})
    sums = table.groupby("group", sort=True)[["expected", "actual"]].sum()
    return ", ".join(
        f"{group} {row.expected:.0f}/{row.actual:.0f}" for group, row in sums.iterrows()
    )


def report(settings: GenerationSettings) -> None:
    tables = generated_tables(settings)
    orders = tables["orders"]
    log, _ = placed_transactions(orders)
    service = service_events(orders, tables["support_tickets"])
    examples = split_examples(log, horizon_days=HORIZON_DAYS, service=service)
    bundle = train_bundle(examples.train, log, examples.cutoff, HORIZON_DAYS, datetime.now(UTC))
    evaluation = evaluation_report(bundle, examples.test, log)
    baselines = evaluation["churn_baselines"]
    cutoff = examples.cutoff
    summary = rfm_summary(log, cutoff, cutoff + pd.Timedelta(days=HORIZON_DAYS))
    customers = summary.customers
    purchases, revenue = btyd_holdout_prediction(summary, bundle.bgnbd, bundle.gamma_gamma)
    actual_purchases = customers["holdout_frequency"]
    actual_revenue = customers["holdout_revenue"]
    spend = bundle.gamma_gamma.expected_average_spend(
        customers["frequency"], customers["monetary_value"]
    )

    profiles = tables["synthetic.customer_profiles"].set_index("user_id")
    churned_at = profiles["churned_at"].dt.tz_localize(None).reindex(customers.index)
    holdout_end = cutoff + pd.Timedelta(days=HORIZON_DAYS)
    quiet = np.select(
        [churned_at <= cutoff, churned_at <= holdout_end],
        ["quiet before the cutoff", "quiet in the holdout"],
        "active",
    )
    print(
        f"seed {settings.seed}: {len(customers):,} customers at the cutoff {cutoff.date()}\n"
        f"  churn AUC {evaluation['churn']['auc']['value']:.3f} "
        f"(BG/NBD {baselines['btyd_expected_purchases']['auc']:.3f}, "
        f"recency {baselines['recency']['auc']:.3f}), "
        f"Brier {evaluation['churn']['brier']['value']:.3f} "
        f"(base rate {baselines['base_rate']['brier']:.3f})\n"
        f"  CLV holdout purchases {purchases.sum():.0f} expected / {actual_purchases.sum():.0f} "
        f"({purchases.sum() / actual_purchases.sum() - 1:+.1%}), revenue {revenue.sum():,.0f} / "
        f"{actual_revenue.sum():,.0f} ({revenue.sum() / actual_revenue.sum() - 1:+.1%}); "
        f"last period repeats {evaluation['clv_baseline']['abs_revenue_error']:.1%} off\n"
        f"  spend alone: {(actual_purchases * spend).sum() / actual_revenue.sum() - 1:+.1%} "
        f"(expected spend x actual purchases); largest customer "
        f"{revenue.max() / revenue.sum():.0%} of the predicted revenue\n"
        f"  purchases expected/actual by persona: "
        f"{expected_against_actual(customers.index.map(profiles['persona']), purchases, actual_purchases)}\n"  # noqa: E501
        f"  by ground truth: {expected_against_actual(pd.Series(quiet, index=customers.index), purchases, actual_purchases)}"  # noqa: E501
    )
    window_start = pd.Timestamp(settings.start_date)
    days = log[DATE]
    periods = [
        (window_start + timedelta(days=30 * i), window_start + timedelta(days=30 * (i + 1)))
        for i in (-3, -2, -1, 0)
    ]
    counts = [int(((days >= start) & (days < end)).sum()) for start, end in periods]
    print(f"  orders per 30 days, the last 90 days of history then the window: {counts}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 7, 11])
    parser.add_argument("--users", type=int, default=1_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--history-days", type=int, default=365)
    args = parser.parse_args()
    with threadpool_limits(1):
        for seed in args.seeds:
            report(
                GenerationSettings(
                    users=args.users, days=args.days, seed=seed, history_days=args.history_days
                )
            )


if __name__ == "__main__":
    main()
