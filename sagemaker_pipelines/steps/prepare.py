"""Prepare step: the raw orders and tickets extracts and the customer_features mart (local
folders or s3:// prefixes, see lake_io) -> training and test examples and the clean log."""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import argparse
import json

from sagemaker_pipelines.models.btyd import FitError, InsufficientDataError
from sagemaker_pipelines.models.datasets import split_examples
from sagemaker_pipelines.models.features import DEFAULT_HORIZON_DAYS
from sagemaker_pipelines.models.transactions import CUSTOMER, PeriodError
from sagemaker_pipelines.steps import PROCESSING
from sagemaker_pipelines.steps.common import (
    SPLIT_FILE,
    read_features,
    read_order_history,
    refuse,
    write_parquet,
)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", required=True, help="the raw orders extract (folder or s3://)")
    parser.add_argument(
        "--tickets",
        default="",
        help="the raw support_tickets extract (optional: without it, no service history)",
    )
    parser.add_argument("--features", default="", help="the customer_features mart (optional)")
    parser.add_argument("--cutoff", default="", help="YYYY-MM-DD; empty: last order day - horizon")
    parser.add_argument("--horizon-days", type=int, default=DEFAULT_HORIZON_DAYS)
    parser.add_argument("--output", type=Path, default=PROCESSING / "output")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    log, service = read_order_history(args.orders, args.tickets)
    try:
        examples = split_examples(
            log,
            args.cutoff or None,
            horizon_days=args.horizon_days,
            service=service,
            extras=read_features(args.features) or None,
        )
    except (InsufficientDataError, FitError, PeriodError) as error:
        refuse(f"too little history: {error}")
    write_parquet(examples.train, args.output / "train" / "examples.parquet")
    split = {"evaluation_cutoff": examples.cutoff.date().isoformat()}
    (args.output / "train" / SPLIT_FILE).write_text(json.dumps(split) + "\n")
    write_parquet(examples.test, args.output / "test" / "examples.parquet")
    write_parquet(log, args.output / "transactions" / "transactions.parquet")
    counts = {
        "cutoff": examples.cutoff.date().isoformat(),
        "horizon_days": args.horizon_days,
        "orders": len(log),
        "customers": int(log[CUSTOMER].nunique()),
        "train_examples": len(examples.train),
        "test_examples": len(examples.test),
        "training_cutoffs": [day.date().isoformat() for day in examples.training_cutoffs],
        "skipped_cutoffs": [day.date().isoformat() for day in examples.skipped_cutoffs],
        "uses_service_history": service is not None,
        "uses_customer_features": examples.uses_extra,
    }
    (args.output / "prepare.json").write_text(json.dumps(counts, indent=2) + "\n")
    print(json.dumps(counts))


if __name__ == "__main__":
    main()
