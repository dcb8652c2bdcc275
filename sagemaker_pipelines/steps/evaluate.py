"""Evaluate step: the trained bundle on the test cutoff -> evaluation.json."""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import argparse
import json

from sagemaker_pipelines.models.bundle import load_bundle
from sagemaker_pipelines.models.evaluation_report import evaluation_report
from sagemaker_pipelines.steps import PROCESSING
from sagemaker_pipelines.steps.common import read_folder

INPUT = PROCESSING / "input"
EVALUATION_FILE = "evaluation.json"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, default=INPUT / "model")
    parser.add_argument("--test", type=Path, default=INPUT / "test")
    parser.add_argument("--transactions", type=Path, default=INPUT / "transactions")
    parser.add_argument("--output", type=Path, default=PROCESSING / "evaluation")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    report = evaluation_report(
        load_bundle(args.model), read_folder(args.test), read_folder(args.transactions)
    )
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / EVALUATION_FILE).write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps({"churn": report["churn"], "clv": report["clv"]}))


if __name__ == "__main__":
    main()
