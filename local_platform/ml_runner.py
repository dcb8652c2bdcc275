"""The ML pipelines on one machine: the same step scripts SageMaker runs, as plain processes
in pipeline order over the local lake, with a LocalRegistry standing in for the Model Registry.

Training runs prepare -> train -> evaluate, applies the registration condition and registers
the one artifact in the churn and CLV groups as PendingManualApproval; scoring runs the score
step with the latest Approved version and sends its scores on to the warehouse and PostgreSQL.
The pipeline definitions (sagemaker_pipelines/definitions) run the same scripts in the cloud.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from contracts.lake import CUSTOMER_SCORES, CUSTOMER_SCORES_PARTITION, Lake
from sagemaker_pipelines.definitions.placeholders import PipelineNames
from sagemaker_pipelines.registry import PENDING, LocalRegistry, ModelVersion
from sagemaker_pipelines.steps import REFUSED, STEPS_DIR


@dataclass(frozen=True)
class Thresholds:
    """The registration condition's pipeline parameters (MinChurnAuc, MaxChurnBrier,
    MaxClvRevenueError)."""

    min_churn_auc: float
    max_churn_brier: float
    max_clv_revenue_error: float


def configured_training(env: str) -> tuple[Thresholds, int]:
    """The environment's thresholds and churn horizon (cdk.json's `ml` section), as its
    training pipeline gets them."""
    from cdk_app.config import load_config

    ml = load_config(env).ml
    return Thresholds(
        ml.min_churn_auc, ml.max_churn_brier, ml.max_clv_revenue_error
    ), ml.horizon_days


@dataclass(frozen=True)
class MlPaths:
    """The lake the steps read and the scores land in, the registry, and the runs' work
    folders (step outputs of each training run, kept for inspection)."""

    lake_root: Path
    registry: Path
    runs: Path

    @classmethod
    def beside(cls, lake_root: Path, registry: Path | None = None) -> MlPaths:
        """The registry and runs next to the lake, unless a registry is given."""
        return cls(
            lake_root, registry or lake_root.parent / "model_registry", lake_root.parent / "ml_runs"
        )

    @property
    def lake(self) -> Lake:
        return Lake.in_folder(str(self.lake_root))


def model_groups(env: str) -> tuple[str, str]:
    """The churn and CLV model package groups, named as the environment's pipelines name them."""
    names = PipelineNames.for_prefix(f"ecommerce-{env}")
    return names.churn_group, names.clv_group


class StepRefusedError(Exception):
    """A step refused its input (too little history, missing data): nothing was registered."""


class ConditionFailedError(Exception):
    """The trained model missed its thresholds: nothing was registered."""

    def __init__(self, failures: list[str], evaluation: dict[str, Any]) -> None:
        self.failures = failures
        self.evaluation = evaluation
        super().__init__("; ".join(failures))


def run_step(name: str, *args: str | Path) -> str:
    """Run sagemaker_pipelines/steps/<name>.py as SageMaker would; its stdout."""
    result = subprocess.run(  # noqa: S603 this Python running the project's step scripts
        [sys.executable, str(STEPS_DIR / f"{name}.py"), *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode == REFUSED:
        raise StepRefusedError(result.stderr.strip().removeprefix("refused: "))
    if result.returncode != 0:
        raise RuntimeError(f"the {name} step failed:\n{result.stderr.strip()}")
    return result.stdout


ORDERS = "orders"
TICKETS = "support_tickets"
FEATURES_MART = "customer_features"
RFM_SEGMENTS_MART = "mart_rfm_segments"
"""The tables the steps read (the raw extracts; the marts of contracts/marts.yaml)."""


@dataclass(frozen=True)
class Trained:
    """A registered training run: its version in each group and evaluation.json."""

    versions: list[ModelVersion]
    evaluation: dict[str, Any]
    run: Path


def train(
    paths: MlPaths,
    groups: tuple[str, str],
    thresholds: Thresholds,
    horizon_days: int,
    *,
    cutoff: date | None = None,
) -> Trained:
    """prepare -> train -> evaluate -> condition -> register (PendingManualApproval).

    Raises StepRefusedError when the lake holds too little history and ConditionFailedError when the
    metrics miss the thresholds; either way nothing is registered.
    """
    from sagemaker_pipelines.models.bundle import ARCHIVE_FILE, archive_bundle
    from sagemaker_pipelines.models.evaluation_report import condition_failures

    run = paths.runs / datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    lake, prepared, model = paths.lake, run / "prepared", run / "model"
    horizon = ("--horizon-days", str(horizon_days))
    run_step(
        "prepare",
        "--orders", lake.raw_table(ORDERS),
        "--tickets", lake.raw_table(TICKETS),
        "--features", lake.mart(FEATURES_MART),
        "--cutoff", cutoff.isoformat() if cutoff else "",
        *horizon,
        "--output", prepared,
    )  # fmt: skip
    run_step(
        "train",
        "--train", prepared / "train",
        "--transactions", prepared / "transactions",
        "--model-dir", model,
        *horizon,
    )  # fmt: skip
    archive_bundle(model, model / ARCHIVE_FILE)
    run_step(
        "evaluate",
        "--model", model,
        "--test", prepared / "test",
        "--transactions", prepared / "transactions",
        "--output", run / "evaluation",
    )  # fmt: skip
    evaluation = json.loads((run / "evaluation" / "evaluation.json").read_text())
    failures = condition_failures(
        evaluation,
        thresholds.min_churn_auc,
        thresholds.max_churn_brier,
        thresholds.max_clv_revenue_error,
    )
    if failures:
        raise ConditionFailedError(failures, evaluation)
    registry = LocalRegistry(paths.registry)
    versions = [registry.register(group, model / ARCHIVE_FILE, evaluation) for group in groups]
    return Trained(versions, evaluation, run)


def approve(
    paths: MlPaths, groups: tuple[str, str], version: str | None = None
) -> list[ModelVersion]:
    """Approve `version` (default: the churn group's newest pending one) in both groups."""
    registry = LocalRegistry(paths.registry)
    chosen = version or registry.latest(groups[0], PENDING).version
    return [registry.approve(group, chosen) for group in groups]


@dataclass(frozen=True)
class Scored:
    """A scoring run: the version used, a newer pending one if any, and rows per destination."""

    version: ModelVersion
    newer_pending: ModelVersion | None
    as_of: str
    scores: Path
    warehouse_rows: int
    database_rows: int


def score(
    paths: MlPaths,
    groups: tuple[str, str],
    *,
    database_url: str,
    warehouse: Path,
    as_of: date | None = None,
) -> Scored:
    """Score every customer with the latest Approved version (locally one artifact serves both
    groups) into the lake, then the warehouse table and the OLTP table."""
    import pandas as pd

    from local_platform.customer_scores import load_scores_into_warehouse, upsert_scores

    registry = LocalRegistry(paths.registry)
    approved = registry.latest_approved(groups[0])
    pending = [
        version
        for version in registry.versions(groups[0])
        if version.status == PENDING and int(version.version) > int(approved.version)
    ]
    day = (as_of or datetime.now(UTC).date()).isoformat()
    lake = paths.lake
    output = Path(lake.curated_table(CUSTOMER_SCORES))
    run_step(
        "score",
        "--model", Path(approved.artifact).parent,
        "--model-version", approved.version,
        "--orders", lake.raw_table(ORDERS),
        "--tickets", lake.raw_table(TICKETS),
        "--features", lake.mart(FEATURES_MART),
        "--rfm-segments", lake.mart(RFM_SEGMENTS_MART),
        "--as-of", day,
        "--output", output,
    )  # fmt: skip
    written = output / f"{CUSTOMER_SCORES_PARTITION}={day}"
    scores = pd.read_parquet(written)
    return Scored(
        version=approved,
        newer_pending=pending[-1] if pending else None,
        as_of=day,
        scores=written,
        warehouse_rows=load_scores_into_warehouse(warehouse, lake),
        database_rows=upsert_scores(database_url, scores, day),
    )
