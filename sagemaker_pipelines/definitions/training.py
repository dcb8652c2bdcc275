"""The weekly training pipeline: prepare -> train -> evaluate -> condition on the metrics ->
register the one artifact in the churn and CLV groups, else fail naming the metrics."""

from __future__ import annotations

from sagemaker.inputs import TrainingInput
from sagemaker.model_metrics import MetricsSource, ModelMetrics
from sagemaker.processing import ProcessingInput, ProcessingOutput
from sagemaker.workflow.condition_step import ConditionStep
from sagemaker.workflow.conditions import (
    ConditionGreaterThanOrEqualTo,
    ConditionLessThanOrEqualTo,
)
from sagemaker.workflow.fail_step import FailStep
from sagemaker.workflow.functions import Join, JsonGet
from sagemaker.workflow.parameters import (
    ParameterFloat,
    ParameterInteger,
    ParameterString,
)
from sagemaker.workflow.pipeline import Pipeline
from sagemaker.workflow.properties import PropertyFile
from sagemaker.workflow.step_collections import RegisterModel
from sagemaker.workflow.steps import ProcessingStep, TrainingStep

from sagemaker_pipelines.definitions import placeholders
from sagemaker_pipelines.definitions.offline import OfflineSession
from sagemaker_pipelines.definitions.placeholders import PipelineNames, TrainingDefaults
from sagemaker_pipelines.definitions.processors import (
    INSTANCE_TYPE,
    PROCESSING,
    execution_uri,
    lake_arguments,
    lake_parameters,
    step_processor,
    training_estimator,
)

EVALUATION_FILE = "evaluation.json"
# evaluation.json paths the condition reads (the step contract's keys).
CHURN_AUC = "churn.auc.value"
CHURN_BRIER = "churn.brier.value"
CLV_REVENUE_ERROR = "clv.abs_revenue_error.value"


def training_pipeline(
    names: PipelineNames, defaults: TrainingDefaults, subnets: list[str]
) -> Pipeline:
    session = OfflineSession()
    cutoff = ParameterString(name="CutoffDate", default_value="")
    horizon = ParameterInteger(name="HorizonDays", default_value=defaults.horizon_days)
    min_auc = ParameterFloat(name="MinChurnAuc", default_value=defaults.min_churn_auc)
    max_brier = ParameterFloat(name="MaxChurnBrier", default_value=defaults.max_churn_brier)
    max_revenue_error = ParameterFloat(
        name="MaxClvRevenueError", default_value=defaults.max_clv_revenue_error
    )
    approval = ParameterString(name="ModelApprovalStatus", default_value="PendingManualApproval")
    lake = lake_parameters()

    prepare = ProcessingStep(
        name="Prepare",
        step_args=step_processor("prepare", f"{names.training}-prepare", session, subnets).run(
            code=placeholders.SOURCE_URI,
            outputs=[
                ProcessingOutput(
                    output_name=channel,
                    source=f"{PROCESSING}/output/{channel}",
                    destination=execution_uri("prepare", channel),
                )
                for channel in ("train", "test", "transactions")
            ],
            arguments=[
                *lake_arguments(lake),
                "--cutoff",
                cutoff,
                "--horizon-days",
                horizon.to_string(),
                "--output",
                f"{PROCESSING}/output",
            ],
        ),
    )
    prepared = prepare.properties.ProcessingOutputConfig.Outputs

    train = TrainingStep(
        name="Train",
        step_args=training_estimator(
            f"{names.training}-train", session, {"horizon-days": horizon}, subnets
        ).fit(
            inputs={
                channel: TrainingInput(s3_data=prepared[channel].S3Output.S3Uri)
                for channel in ("train", "transactions")
            }
        ),
    )
    model_data = train.properties.ModelArtifacts.S3ModelArtifacts

    report = PropertyFile(name="Evaluation", output_name="evaluation", path=EVALUATION_FILE)
    evaluation_uri = execution_uri("evaluation")
    evaluate = ProcessingStep(
        name="Evaluate",
        step_args=step_processor("evaluate", f"{names.training}-evaluate", session, subnets).run(
            code=placeholders.SOURCE_URI,
            inputs=[
                ProcessingInput(source=model_data, destination=f"{PROCESSING}/input/model"),
                ProcessingInput(
                    source=prepared["test"].S3Output.S3Uri,
                    destination=f"{PROCESSING}/input/test",
                ),
                ProcessingInput(
                    source=prepared["transactions"].S3Output.S3Uri,
                    destination=f"{PROCESSING}/input/transactions",
                ),
            ],
            outputs=[
                ProcessingOutput(
                    output_name="evaluation",
                    source=f"{PROCESSING}/evaluation",
                    destination=evaluation_uri,
                )
            ],
        ),
        property_files=[report],
    )

    def metric(path: str) -> JsonGet:
        return JsonGet(step_name=evaluate.name, property_file=report, json_path=path)

    metrics = ModelMetrics(
        model_statistics=MetricsSource(
            s3_uri=Join(on="/", values=[evaluation_uri, EVALUATION_FILE]),
            content_type="application/json",
        )
    )
    estimator = training_estimator(f"{names.training}-train", session, {}, subnets)
    register = [
        RegisterModel(
            name=f"Register{kind}",
            estimator=estimator,
            model_data=model_data,
            content_types=["application/x-parquet"],
            response_types=["application/x-parquet"],
            inference_instances=[INSTANCE_TYPE],
            transform_instances=[INSTANCE_TYPE],
            model_package_group_name=group,
            approval_status=approval,
            model_metrics=metrics,
            description=f"{label} model of the e-commerce platform (one bundle in both groups)",
        )
        for kind, label, group in (
            ("Churn", "churn", names.churn_group),
            ("Clv", "CLV", names.clv_group),
        )
    ]
    fail = FailStep(
        name="MetricsBelowTrainingDefaults",
        error_message=Join(
            on="",
            values=[
                "Not registered, a metric misses its threshold: churn AUC ",
                metric(CHURN_AUC),
                " (min ",
                min_auc,
                "), churn Brier ",
                metric(CHURN_BRIER),
                " (max ",
                max_brier,
                "), CLV revenue error ",
                metric(CLV_REVENUE_ERROR),
                " (max ",
                max_revenue_error,
                ")",
            ],
        ),
    )
    check = ConditionStep(
        name="MetricsMeetTrainingDefaults",
        conditions=[
            ConditionGreaterThanOrEqualTo(left=metric(CHURN_AUC), right=min_auc),
            ConditionLessThanOrEqualTo(left=metric(CHURN_BRIER), right=max_brier),
            ConditionLessThanOrEqualTo(left=metric(CLV_REVENUE_ERROR), right=max_revenue_error),
        ],
        if_steps=register,
        else_steps=[fail],
    )
    return Pipeline(
        name=names.training,
        parameters=[
            cutoff,
            horizon,
            min_auc,
            max_brier,
            max_revenue_error,
            approval,
            *lake,
        ],
        steps=[prepare, train, evaluate, check],
        sagemaker_session=session,
    )
