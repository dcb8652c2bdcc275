"""Train step: the churn classifier and the CLV models, saved as one bundle."""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import argparse
import json
import os
from datetime import datetime, timezone

import pandas as pd

from sagemaker_pipelines.models.btyd import FitError, InsufficientDataError
from sagemaker_pipelines.models.bundle import save_bundle, train_bundle
from sagemaker_pipelines.models.features import DEFAULT_HORIZON_DAYS
from sagemaker_pipelines.steps.common import SPLIT_FILE, read_folder, refuse


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    channel = os.environ.get
    parser.add_argument(
        "--train", type=Path, default=channel("SM_CHANNEL_TRAIN", "/opt/ml/input/data/train")
    )
    parser.add_argument(
        "--transactions",
        type=Path,
        default=channel("SM_CHANNEL_TRANSACTIONS", "/opt/ml/input/data/transactions"),
    )
    parser.add_argument("--model-dir", type=Path, default=channel("SM_MODEL_DIR", "/opt/ml/model"))
    parser.add_argument("--horizon-days", type=int, default=DEFAULT_HORIZON_DAYS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    train = read_folder(args.train)
    log = read_folder(args.transactions)
    split = args.train / SPLIT_FILE
    if not split.exists():
        refuse(f"no {SPLIT_FILE} beside the training examples in {args.train}")
    cutoff = pd.Timestamp(json.loads(split.read_text())["evaluation_cutoff"])
    try:
        bundle = train_bundle(train, log, cutoff, args.horizon_days, datetime.now(timezone.utc))
    except (InsufficientDataError, FitError) as error:
        refuse(f"cannot train: {error}")
    save_bundle(bundle, args.model_dir)
    print(json.dumps(bundle.describe()))


if __name__ == "__main__":
    main()
