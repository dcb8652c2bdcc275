"""Both pipeline definitions as JSON, with placeholders for what only a deployment knows
(see `placeholders`). Deterministic: the same names and defaults give the same bytes.

`python -m sagemaker_pipelines.definitions.build OUT_DIR [--env dev]` writes an environment's
as <pipeline>.json (the golden files under tests/unit/golden/ml_pipelines are dev's).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from sagemaker.workflow.pipeline import Pipeline

from cdk_app.config import MlConfig, PlatformConfig, load_config
from sagemaker_pipelines.definitions import placeholders
from sagemaker_pipelines.definitions.offline import offline
from sagemaker_pipelines.definitions.placeholders import PipelineNames, TrainingDefaults
from sagemaker_pipelines.definitions.scoring import scoring_pipeline
from sagemaker_pipelines.definitions.training import training_pipeline

# The body CloudFormation accepts in PipelineDefinitionBody.
MAX_DEFINITION_CHARS = 1_048_576


def training_defaults(ml: MlConfig) -> TrainingDefaults:
    return TrainingDefaults(
        horizon_days=ml.horizon_days,
        min_churn_auc=ml.min_churn_auc,
        max_churn_brier=ml.max_churn_brier,
        max_clv_revenue_error=ml.max_clv_revenue_error,
    )


def environment_definitions(config: PlatformConfig) -> dict[str, str]:
    """The definitions of one environment, named after its resource prefix."""
    return pipeline_definitions(
        PipelineNames.for_prefix(f"ecommerce-{config.env_name}"),
        training_defaults(config.ml),
        subnet_count=config.network.max_azs,
    )


def pipeline_definitions(
    names: PipelineNames, defaults: TrainingDefaults, *, subnet_count: int
) -> dict[str, str]:
    """Pipeline name -> definition JSON (keys sorted, so equal inputs give equal text); the
    jobs run in `subnet_count` private subnets (the VPC's, one per availability zone)."""
    return {
        names.training: training_definition(names, defaults, subnet_count=subnet_count),
        names.scoring: scoring_definition(names, subnet_count=subnet_count),
    }


def training_definition(
    names: PipelineNames, defaults: TrainingDefaults, *, subnet_count: int
) -> str:
    """The training pipeline's definition alone."""
    with offline():
        return _body(training_pipeline(names, defaults, placeholders.subnets(subnet_count)))


def scoring_definition(names: PipelineNames, *, subnet_count: int) -> str:
    """The scoring pipeline's definition alone (it has no training defaults)."""
    with offline():
        return _body(scoring_pipeline(names, placeholders.subnets(subnet_count)))


def _body(pipeline: Pipeline) -> str:
    """The pipeline's definition JSON, checked against the size limit."""
    body = json.dumps(json.loads(pipeline.definition()), indent=1, sort_keys=True)
    if len(body) > MAX_DEFINITION_CHARS:
        raise ValueError(f"{pipeline.name}: definition has {len(body)} characters, over the limit")
    return body


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--env", default="dev", help="environment of cdk.json (default: dev)")
    args = parser.parse_args(argv)
    out_dir = args.out_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, body in environment_definitions(load_config(args.env)).items():
        (out_dir / f"{name}.json").write_text(body + "\n")


if __name__ == "__main__":
    main()
