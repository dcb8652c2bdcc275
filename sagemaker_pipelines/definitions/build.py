"""Both pipeline definitions as JSON, with placeholders for what only a deployment knows
(see `placeholders`). Deterministic: the same names and thresholds give the same bytes.

`python -m sagemaker_pipelines.definitions.build OUT_DIR` writes them as
<pipeline>.json (the golden files under tests/unit/golden/ml_pipelines are written this way).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from sagemaker_pipelines.definitions.offline import offline
from sagemaker_pipelines.definitions.placeholders import PipelineNames, Thresholds
from sagemaker_pipelines.definitions.scoring import scoring_pipeline
from sagemaker_pipelines.definitions.training import training_pipeline

# The body CloudFormation accepts in PipelineDefinitionBody.
MAX_DEFINITION_CHARS = 1_048_576
# The environment and thresholds of the golden files.
GOLDEN_PREFIX = "ecommerce-dev"
GOLDEN_THRESHOLDS = Thresholds(min_churn_auc=0.75, max_churn_brier=0.12, max_clv_revenue_error=0.3)


def pipeline_definitions(names: PipelineNames, thresholds: Thresholds) -> dict[str, str]:
    """Pipeline name -> definition JSON (keys sorted, so equal inputs give equal text)."""
    with offline():
        pipelines = (training_pipeline(names, thresholds), scoring_pipeline(names))
        bodies = {
            pipeline.name: json.dumps(json.loads(pipeline.definition()), indent=1, sort_keys=True)
            for pipeline in pipelines
        }
    for name, body in bodies.items():
        if len(body) > MAX_DEFINITION_CHARS:
            raise ValueError(f"{name}: definition has {len(body)} characters, over the limit")
    return bodies


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    out_dir = parser.parse_args(argv).out_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, body in pipeline_definitions(
        PipelineNames.for_prefix(GOLDEN_PREFIX), GOLDEN_THRESHOLDS
    ).items():
        (out_dir / f"{name}.json").write_text(body + "\n")


if __name__ == "__main__":
    main()
