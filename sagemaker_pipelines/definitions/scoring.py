"""The daily scoring pipeline: one step that resolves the latest approved churn and CLV model
packages itself (so a newly approved model is used without redeploying), reads the lake, and
writes the day's scores under ScoresUri with awswrangler, registering the partition in the
curated zone's Glue table (no processing output: the step writes S3 and the catalog itself),
then upserts the day into the OLTP database's ml.customer_scores."""

from __future__ import annotations

from sagemaker.workflow.parameters import ParameterString
from sagemaker.workflow.pipeline import Pipeline
from sagemaker.workflow.steps import ProcessingStep

from contracts.lake import CUSTOMER_SCORES
from sagemaker_pipelines.definitions import placeholders
from sagemaker_pipelines.definitions.offline import OfflineSession
from sagemaker_pipelines.definitions.placeholders import PipelineNames
from sagemaker_pipelines.definitions.processors import (
    lake_arguments,
    lake_parameters,
    step_processor,
)
from sagemaker_pipelines.definitions.sources import rfm_segments_uri, scores_uri


def scoring_pipeline(names: PipelineNames, subnets: list[str]) -> Pipeline:
    session = OfflineSession()
    as_of = ParameterString(name="AsOfDate", default_value="")
    lake = lake_parameters()
    rfm_segments = ParameterString(name="RfmSegmentsUri", default_value=rfm_segments_uri())
    scores = ParameterString(name="ScoresUri", default_value=scores_uri())
    score = ProcessingStep(
        name="Score",
        step_args=step_processor("score", f"{names.scoring}-score", session, subnets).run(
            code=placeholders.SOURCE_URI,
            arguments=[
                "--churn-group",
                names.churn_group,
                "--clv-group",
                names.clv_group,
                *lake_arguments(lake),
                "--rfm-segments",
                rfm_segments,
                "--as-of",
                as_of,
                "--output",
                scores,
                "--catalog-database",
                placeholders.CURATED_DATABASE,
                "--catalog-table",
                CUSTOMER_SCORES,
                "--database-secret",
                placeholders.DATABASE_SECRET,
            ],
        ),
    )
    return Pipeline(
        name=names.scoring,
        parameters=[as_of, *lake, rfm_segments, scores],
        steps=[score],
        sagemaker_session=session,
    )
