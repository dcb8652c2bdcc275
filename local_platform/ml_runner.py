"""The ML pipelines on one machine: the definitions SageMaker runs (built by the same SDK
builder as the golden files and the stack's), interpreted by local_platform.pipeline_interpreter
over the local lake, with a LocalRegistry standing in for the Model Registry.

Training runs the training definition (prepare -> train -> evaluate -> condition -> register
as PendingManualApproval, else its Fail step); scoring runs the scoring definition, whose score
step finds the latest Approved version in the registry, and sends its scores on to the
warehouse and PostgreSQL.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from contracts.lake import CUSTOMER_SCORES, CUSTOMER_SCORES_PARTITION, Lake
from local_platform.pipeline_interpreter import (
    Execution,
    LocalTarget,
    PipelineFailedError,
    PipelineInterpreter,
    StepFailedError,
)
from sagemaker_pipelines.definitions import placeholders
from sagemaker_pipelines.definitions.placeholders import PipelineNames, TrainingDefaults
from sagemaker_pipelines.registry import PENDING, LocalRegistry, ModelVersion
from sagemaker_pipelines.steps import REFUSED


def configured_training(env: str) -> TrainingDefaults:
    """The environment's horizon and thresholds (cdk.json's `ml` section): the defaults of its
    training pipeline's parameters."""
    from cdk_app.config import load_config
    from sagemaker_pipelines.definitions.build import training_defaults

    return training_defaults(load_config(env).ml)


@dataclass(frozen=True)
class MlPaths:
    """The lake the steps read and the scores land in, the registry, and the runs' folder
    (the artifacts bucket: each execution's step outputs and job folders under
    ml/<execution id>/, kept for inspection)."""

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


def pipeline_names(env: str) -> PipelineNames:
    return PipelineNames.for_prefix(f"ecommerce-{env}")


def model_groups(env: str) -> tuple[str, str]:
    """The churn and CLV model package groups, named as the environment's pipelines name them."""
    names = pipeline_names(env)
    return names.churn_group, names.clv_group


LOCAL_SUBNETS = 1
"""The definitions name the VPC's subnets for the jobs; locally there is no network to model."""
AWS_ONLY_OPTIONS = frozenset({"--catalog-database", "--catalog-table", "--database-secret"})
"""The score step's Glue catalog table and OLTP secret: locally `score` loads the warehouse
and PostgreSQL itself."""


@cache
def _training_body(names: PipelineNames, defaults: TrainingDefaults) -> str:
    from sagemaker_pipelines.definitions.build import training_definition

    return training_definition(names, defaults, subnet_count=LOCAL_SUBNETS)


@cache
def _scoring_body(names: PipelineNames) -> str:
    from sagemaker_pipelines.definitions.build import scoring_definition

    return scoring_definition(names, subnet_count=LOCAL_SUBNETS)


def training_definition(names: PipelineNames, defaults: TrainingDefaults) -> dict[str, Any]:
    """The training pipeline's definition, as the stack deploys it."""
    return json.loads(_training_body(names, defaults))


def scoring_definition(names: PipelineNames) -> dict[str, Any]:
    return json.loads(_scoring_body(names))


class StepRefusedError(Exception):
    """A step refused its input (too little history, missing data): nothing was registered."""


class ConditionFailedError(Exception):
    """The trained model missed its thresholds: the definition's Fail step ran and nothing was
    registered. The message is the Fail step's: each metric beside its threshold."""

    def __init__(self, message: str, evaluation: dict[str, Any]) -> None:
        self.evaluation = evaluation
        super().__init__(message)


def _interpreter(paths: MlPaths, definition: dict[str, Any], run: Path) -> PipelineInterpreter:
    """The definition's buckets mapped to the lake's zones and the runs' folder."""
    zones = {
        placeholders.RAW_BUCKET: Path(paths.lake.raw),
        placeholders.CURATED_BUCKET: Path(paths.lake.curated),
        placeholders.MARTS_BUCKET: Path(paths.lake.marts),
        placeholders.ARTIFACTS_BUCKET: paths.runs,
    }
    target = LocalTarget(
        zones, run / "jobs", LocalRegistry(paths.registry), skip_options=AWS_ONLY_OPTIONS
    )
    return PipelineInterpreter(definition, target)


def _refusal(error: StepFailedError) -> Exception:
    if error.returncode == REFUSED:
        return StepRefusedError(error.message.removeprefix("refused: "))
    return RuntimeError(f"the {error.step} step failed:\n{error.message}")


def _execute(
    paths: MlPaths, definition: dict[str, Any], given: dict[str, Any]
) -> tuple[Execution, Path]:
    """Run the definition with `given` parameters as a new execution (its id a timestamp) in
    its own folder under the runs'; a failed step raises as _refusal words it."""
    execution_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    run = paths.runs / placeholders.ML_PREFIX / execution_id
    try:
        return _interpreter(paths, definition, run).run(given, execution_id), run
    except StepFailedError as error:
        raise _refusal(error) from error


@dataclass(frozen=True)
class Trained:
    """A registered training run: its version in each group and evaluation.json."""

    versions: list[ModelVersion]
    evaluation: dict[str, Any]
    run: Path


def train(
    paths: MlPaths,
    names: PipelineNames,
    defaults: TrainingDefaults,
    *,
    parameters: TrainingDefaults | None = None,
    cutoff: date | None = None,
) -> Trained:
    """Run the training definition built with `defaults` (as the stack deploys it), started
    with `parameters` (as a schedule starts it; None: the definition's defaults).

    Raises StepRefusedError when the lake holds too little history and ConditionFailedError when
    the definition's condition sends the run to its Fail step; either way nothing is registered.
    """
    definition = training_definition(names, defaults)
    given: dict[str, Any] = parameters.parameters() if parameters else {}
    if cutoff is not None:
        given["CutoffDate"] = cutoff.isoformat()
    try:
        execution, run = _execute(paths, definition, given)
    except PipelineFailedError as failed:
        evaluation = failed.execution.property_file(*_evaluation_file(definition))
        raise ConditionFailedError(failed.message, evaluation) from failed
    evaluation = execution.property_file(*_evaluation_file(definition))
    return Trained(execution.registered, evaluation, run)


def _evaluation_file(definition: dict[str, Any]) -> tuple[str, str]:
    """The step and name of the definition's (one) property file: evaluation.json."""
    files = [
        (step["Name"], property_file["PropertyFileName"])
        for step in definition["Steps"]
        for property_file in step.get("PropertyFiles", [])
    ]
    if len(files) != 1:
        raise ValueError(f"the training definition has {len(files)} property files, not one")
    return files[0]


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
    names: PipelineNames,
    *,
    database_url: str,
    warehouse: Path,
    as_of: date | None = None,
) -> Scored:
    """Run the scoring definition (its step scores every customer with the latest Approved
    version; locally one artifact serves both groups) into the lake, then load the warehouse
    table and the OLTP table."""
    import pandas as pd

    from local_platform.customer_scores import load_scores_into_warehouse, upsert_scores

    registry = LocalRegistry(paths.registry)
    approved = registry.latest_approved(names.churn_group)
    pending = [
        version
        for version in registry.versions(names.churn_group)
        if version.status == PENDING and int(version.version) > int(approved.version)
    ]
    day = (as_of or datetime.now(UTC).date()).isoformat()
    _execute(paths, scoring_definition(names), {"AsOfDate": day})
    lake = paths.lake
    written = Path(lake.curated_table(CUSTOMER_SCORES)) / f"{CUSTOMER_SCORES_PARTITION}={day}"
    scores = pd.read_parquet(written)
    return Scored(
        version=approved,
        newer_pending=pending[-1] if pending else None,
        as_of=day,
        scores=written,
        warehouse_rows=load_scores_into_warehouse(warehouse, lake),
        database_rows=upsert_scores(database_url, scores, day),
    )
