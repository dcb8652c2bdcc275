"""The daily scoring pipeline: one step that resolves the latest approved churn and CLV model
packages itself (so a newly approved model is used without redeploying) and writes the scores
under ScoresUri."""

from __future__ import annotations

from sagemaker.processing import ProcessingOutput
from sagemaker.workflow.parameters import ParameterString
from sagemaker.workflow.pipeline import Pipeline
from sagemaker.workflow.steps import ProcessingStep

from sagemaker_pipelines.definitions import placeholders
from sagemaker_pipelines.definitions.offline import OfflineSession
from sagemaker_pipelines.definitions.placeholders import PipelineNames
from sagemaker_pipelines.definitions.processors import (
    PROCESSING,
    lake_inputs,
    lake_parameters,
    step_processor,
)
from sagemaker_pipelines.definitions.sources import scores_uri


def scoring_pipeline(names: PipelineNames) -> Pipeline:
    session = OfflineSession()
    as_of = ParameterString(name="AsOfDate", default_value="")
    lake = lake_parameters()
    scores = ParameterString(name="ScoresUri", default_value=scores_uri())
    score = ProcessingStep(
        name="Score",
        step_args=step_processor("score", f"{names.scoring}-score", session).run(
            code=placeholders.SOURCE_URI,
            inputs=lake_inputs(lake),
            outputs=[
                ProcessingOutput(
                    output_name="scores",
                    source=f"{PROCESSING}/output/scores",
                    destination=scores,
                )
            ],
            arguments=[
                "--churn-group",
                names.churn_group,
                "--clv-group",
                names.clv_group,
                "--as-of",
                as_of,
            ],
        ),
    )
    return Pipeline(
        name=names.scoring,
        parameters=[as_of, *lake, scores],
        steps=[score],
        sagemaker_session=session,
    )
