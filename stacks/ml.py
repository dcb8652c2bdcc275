"""ML: the SageMaker pipelines that train and score the churn and CLV models.

- the project's source as one tarball asset (the step scripts and the modelling code);
- two model package groups, churn and CLV: each training run registers its one artifact in
  both, PendingManualApproval;
- the training and scoring pipelines, from the definitions sagemaker_pipelines/definitions
  builds offline, their placeholders replaced by this deployment's buckets, role, region image
  and source;
- one role the pipelines and their jobs run as, limited to the lake prefixes they read and
  write, the artifacts bucket's ml/ prefix, the lake key, and their own jobs and groups;
- EventBridge Scheduler schedules (weekly training, daily scoring, cron from config) passing the
  pipelines' parameters, and a rule that starts scoring when a churn model is approved;
- alarms on failed executions, on the platform dashboard and alarm topic.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Aws, CfnMapping, CfnOutput, Duration, Fn
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_scheduler as scheduler
from constructs import Construct

from contracts.lake import CUSTOMER_SCORES
from sagemaker_pipelines.definitions import placeholders
from sagemaker_pipelines.definitions.build import pipeline_definitions, training_defaults
from sagemaker_pipelines.definitions.placeholders import ML_PREFIX, PipelineNames
from sagemaker_pipelines.definitions.processors import sklearn_image_accounts
from sagemaker_pipelines.definitions.sources import (
    CUSTOMER_FEATURES,
    ORDERS_FOLDER,
    TICKETS_FOLDER,
)
from stacks.constructs.alarms import AlarmSpec
from stacks.constructs.keys import ENCRYPT_DECRYPT
from stacks.constructs.source_tarball import SourceTree, source_tarball
from stacks.foundation import Foundation
from stacks.lake import LakeStack
from stacks.monitoring import MonitoringStack
from stacks.platform_stack import PlatformStack

# What the step scripts import: the modelling code, the steps and the lake layout (the
# definitions stay behind: they need the SDK, which the image does not run).
ML_SOURCE = SourceTree(
    paths=("sagemaker_pipelines", "contracts/__init__.py", "contracts/lake.py"),
    excluded=("sagemaker_pipelines/definitions",),
)
IMAGE_ACCOUNTS_MAPPING = "SklearnImageAccounts"
# SageMaker names a pipeline's jobs pipelines-<execution id>-<step>-<suffix>.
PIPELINE_JOB_NAMES = "pipelines-*"
# The scoring step catalogues its partitions in the curated zone's database.
CATALOG_ACTIONS = [
    "glue:GetDatabase",
    "glue:GetTable",
    "glue:CreateTable",
    "glue:UpdateTable",
    "glue:GetPartition",
    "glue:GetPartitions",
    "glue:CreatePartition",
    "glue:BatchCreatePartition",
    "glue:UpdatePartition",
]
_GT = cw.ComparisonOperator.GREATER_THAN_THRESHOLD


class MlStack(PlatformStack):
    def __init__(
        self, scope: Construct, construct_id: str, *, foundation: Foundation, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        lake = foundation.lake
        self.names = PipelineNames.for_prefix(self.prefix)
        self.source = source_tarball(self, "PipelineSource", ML_SOURCE)
        self.model_groups = {
            kind: sagemaker.CfnModelPackageGroup(
                self,
                f"{kind.title()}ModelGroup",
                model_package_group_name=group,
                model_package_group_description=f"{kind} models of {self.prefix}: one bundle"
                " per training run, registered in both groups, approved by hand",
            )
            for kind, group in (("churn", self.names.churn_group), ("clv", self.names.clv_group))
        }
        self.role = self._pipeline_role(lake, self.source)
        self.pipelines = self._pipelines(lake)
        parameters = self._schedule_parameters(lake)
        self._schedules(parameters)
        self._approval_rule(parameters["scoring"])
        self._alarms(foundation.monitoring)
        self._outputs(lake)

    def pipeline_arn(self, name: str) -> str:
        return self._sagemaker_arn(f"pipeline/{name}")

    def _sagemaker_arn(self, resource: str) -> str:
        return f"arn:{Aws.PARTITION}:sagemaker:{Aws.REGION}:{Aws.ACCOUNT_ID}:{resource}"

    def _pipeline_role(self, lake: LakeStack, source: s3_assets.Asset) -> iam.Role:
        """The pipelines' role, which their jobs run as too."""
        role = iam.Role(
            self,
            "PipelineRole",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description="SageMaker ML pipelines and their jobs: orders and features in, models"
            " and customer scores out",
        )
        artifacts = lake.bucket_arn("artifacts")
        catalog = f"arn:{Aws.PARTITION}:glue:{Aws.REGION}:{Aws.ACCOUNT_ID}"
        curated_database = lake.catalog_database_name("curated")
        groups = [self.names.churn_group, self.names.clv_group]
        jobs = [
            self._sagemaker_arn(f"{kind}-job/{PIPELINE_JOB_NAMES}")
            for kind in ("processing", "training")
        ]
        statements = [
            iam.PolicyStatement(
                actions=["s3:GetObject"],
                resources=[
                    f"arn:{Aws.PARTITION}:s3:::{source.s3_bucket_name}/{source.s3_object_key}",
                    f"{lake.bucket_arn('raw')}/{ORDERS_FOLDER}/*",
                    f"{lake.bucket_arn('raw')}/{TICKETS_FOLDER}/*",
                    f"{lake.bucket_arn('marts')}/{CUSTOMER_FEATURES}/*",
                ],
            ),
            # Jobs list an input's prefix before they download it, the code's too.
            iam.PolicyStatement(
                actions=["s3:ListBucket"],
                resources=[f"arn:{Aws.PARTITION}:s3:::{source.s3_bucket_name}"],
                conditions={"StringEquals": {"s3:prefix": [source.s3_object_key]}},
            ),
            *(
                iam.PolicyStatement(
                    actions=["s3:ListBucket"],
                    resources=[lake.bucket_arn(zone)],
                    conditions={"StringLike": {"s3:prefix": [f"{folder}/*", folder]}},
                )
                for zone, folder in (
                    ("raw", ORDERS_FOLDER),
                    ("raw", TICKETS_FOLDER),
                    ("marts", CUSTOMER_FEATURES),
                    ("curated", CUSTOMER_SCORES),
                    ("artifacts", ML_PREFIX),
                )
            ),
            iam.PolicyStatement(
                actions=["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                resources=[
                    f"{lake.bucket_arn('curated')}/{CUSTOMER_SCORES}/*",
                    f"{artifacts}/{ML_PREFIX}/*",
                ],
            ),
            iam.PolicyStatement(actions=ENCRYPT_DECRYPT, resources=[lake.key.key_arn]),
            iam.PolicyStatement(
                actions=[
                    "sagemaker:CreateProcessingJob",
                    "sagemaker:DescribeProcessingJob",
                    "sagemaker:StopProcessingJob",
                    "sagemaker:CreateTrainingJob",
                    "sagemaker:DescribeTrainingJob",
                    "sagemaker:StopTrainingJob",
                    "sagemaker:AddTags",
                ],
                resources=jobs,
            ),
            iam.PolicyStatement(
                actions=[
                    "sagemaker:CreateModelPackage",
                    "sagemaker:DescribeModelPackage",
                    "sagemaker:DescribeModelPackageGroup",
                    "sagemaker:AddTags",
                ],
                resources=[
                    *(self._sagemaker_arn(f"model-package-group/{group}") for group in groups),
                    *(self._sagemaker_arn(f"model-package/{group}/*") for group in groups),
                ],
            ),
            # The scoring step finds the latest approved package; List* takes no resource ARN.
            iam.PolicyStatement(actions=["sagemaker:ListModelPackages"], resources=["*"]),
            iam.PolicyStatement(
                actions=["iam:PassRole"],
                resources=[role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
            ),
            iam.PolicyStatement(
                actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[
                    f"arn:{Aws.PARTITION}:logs:{Aws.REGION}:{Aws.ACCOUNT_ID}:log-group:"
                    f"/aws/sagemaker/{jobs_kind}:*"
                    for jobs_kind in ("ProcessingJobs", "TrainingJobs")
                ],
            ),
            iam.PolicyStatement(
                actions=CATALOG_ACTIONS,
                resources=[
                    f"{catalog}:catalog",
                    f"{catalog}:database/{curated_database}",
                    f"{catalog}:table/{curated_database}/{CUSTOMER_SCORES}",
                ],
            ),
        ]
        for statement in statements:
            role.add_to_policy(statement)
        return role

    def _pipelines(self, lake: LakeStack) -> dict[str, sagemaker.CfnPipeline]:
        """Both pipelines, each definition's placeholders replaced by this deployment's values
        (tokens, so the body becomes an Fn::Join)."""
        CfnMapping(
            self,
            IMAGE_ACCOUNTS_MAPPING,
            mapping={
                region: {"account": account} for region, account in sklearn_image_accounts().items()
            },
        )
        account = Fn.find_in_map(IMAGE_ACCOUNTS_MAPPING, Aws.REGION, "account")
        values = {
            placeholders.SOURCE_URI: self.source.s3_object_url,
            placeholders.SKLEARN_IMAGE_URI: f"{account}.dkr.ecr.{Aws.REGION}.{Aws.URL_SUFFIX}/"
            f"{placeholders.SKLEARN_IMAGE_REPOSITORY}:{placeholders.SKLEARN_IMAGE_TAG}",
            placeholders.ROLE_ARN: self.role.role_arn,
            placeholders.ARTIFACTS_BUCKET: lake.bucket_name("artifacts"),
            placeholders.RAW_BUCKET: lake.bucket_name("raw"),
            placeholders.CURATED_BUCKET: lake.bucket_name("curated"),
            placeholders.MARTS_BUCKET: lake.bucket_name("marts"),
            placeholders.REGION: Aws.REGION,
        }
        definitions = pipeline_definitions(self.names, training_defaults(self.config.ml))
        pipelines = {}
        for kind, name, description in (
            ("training", self.names.training, "Weekly: prepare, train, evaluate, register"),
            ("scoring", self.names.scoring, "Daily: score every customer"),
        ):
            pipeline = sagemaker.CfnPipeline(
                self,
                f"{kind.title()}Pipeline",
                pipeline_name=name,
                pipeline_description=description,
                role_arn=self.role.role_arn,
                pipeline_definition={
                    "PipelineDefinitionBody": placeholders.substitute(definitions[name], values)
                },
            )
            # The pipeline starts jobs as the role: its policy must exist first.
            pipeline.node.add_dependency(self.role)
            pipelines[kind] = pipeline
        return pipelines

    def _schedule_parameters(self, lake: LakeStack) -> dict[str, dict[str, str]]:
        """What each pipeline is started with: config's horizon and thresholds, and the lake."""
        ml = self.config.ml
        uris = {
            "OrdersUri": f"s3://{lake.bucket_name('raw')}/{ORDERS_FOLDER}/",
            "TicketsUri": f"s3://{lake.bucket_name('raw')}/{TICKETS_FOLDER}/",
            "FeaturesUri": f"s3://{lake.bucket_name('marts')}/{CUSTOMER_FEATURES}/",
        }
        return {
            "training": {
                **uris,
                "HorizonDays": str(ml.horizon_days),
                "MinChurnAuc": str(ml.min_churn_auc),
                "MaxChurnBrier": str(ml.max_churn_brier),
                "MaxClvRevenueError": str(ml.max_clv_revenue_error),
            },
            "scoring": {**uris, "ScoresUri": self._scores_uri(lake)},
        }

    def _scores_uri(self, lake: LakeStack) -> str:
        return f"s3://{lake.bucket_name('curated')}/{CUSTOMER_SCORES}/"

    def _starter_role(self, construct_id: str, service: str, pipelines: list[str]) -> iam.Role:
        """A role `service` assumes to start `pipelines`, on this account's behalf only."""
        role = iam.Role(
            self,
            construct_id,
            assumed_by=iam.ServicePrincipal(
                service, conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}}
            ),
            description=f"Lets {service} start {', '.join(pipelines)}",
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["sagemaker:StartPipelineExecution"],
                resources=[self.pipeline_arn(name) for name in pipelines],
            )
        )
        return role

    def _schedules(self, parameters: dict[str, dict[str, str]]) -> None:
        """Weekly training and daily scoring (cron from config, UTC)."""
        ml = self.config.ml
        role = self._starter_role(
            "ScheduleRole", "scheduler.amazonaws.com", [self.names.training, self.names.scoring]
        )
        for kind, expression in (
            ("training", ml.training_schedule),
            ("scoring", ml.scoring_schedule),
        ):
            pipeline = self.pipelines[kind]
            schedule = scheduler.CfnSchedule(
                self,
                f"{kind.title()}Schedule",
                name=pipeline.pipeline_name,
                description=f"Starts {pipeline.pipeline_name} ({expression} UTC)",
                schedule_expression=expression,
                schedule_expression_timezone="UTC",
                flexible_time_window=scheduler.CfnSchedule.FlexibleTimeWindowProperty(mode="OFF"),
                target=scheduler.CfnSchedule.TargetProperty(
                    arn=self.pipeline_arn(pipeline.pipeline_name),
                    role_arn=role.role_arn,
                    sage_maker_pipeline_parameters=_scheduler_parameters(parameters[kind]),
                    retry_policy=scheduler.CfnSchedule.RetryPolicyProperty(
                        maximum_retry_attempts=3,
                        maximum_event_age_in_seconds=Duration.hours(1).to_seconds(),
                    ),
                ),
            )
            schedule.node.add_dependency(pipeline)

    def _approval_rule(self, parameters: dict[str, str]) -> None:
        """Score as soon as a churn model package is approved, not at the next daily run."""
        role = self._starter_role("ApprovalRuleRole", "events.amazonaws.com", [self.names.scoring])
        self.approval_rule = events.CfnRule(
            self,
            "ScoreOnApproval",
            description=f"Starts {self.names.scoring} when a model package in"
            f" {self.names.churn_group} becomes Approved",
            event_pattern={
                "source": ["aws.sagemaker"],
                "detail-type": ["SageMaker Model Package State Change"],
                "detail": {
                    "ModelPackageGroupName": [self.names.churn_group],
                    "ModelApprovalStatus": ["Approved"],
                },
            },
            targets=[
                events.CfnRule.TargetProperty(
                    id="ScoringPipeline",
                    arn=self.pipeline_arn(self.names.scoring),
                    role_arn=role.role_arn,
                    sage_maker_pipeline_parameters=events.CfnRule.SageMakerPipelineParametersProperty(
                        pipeline_parameter_list=[
                            events.CfnRule.SageMakerPipelineParameterProperty(name=k, value=v)
                            for k, v in parameters.items()
                        ]
                    ),
                )
            ],
        )
        self.approval_rule.node.add_dependency(self.pipelines["scoring"])

    def _alarms(self, monitoring: MonitoringStack) -> None:
        monitoring.section("ML pipelines").add_alarms(
            *(
                AlarmSpec(
                    f"{kind.title()}PipelineFailed",
                    cw.Metric(
                        namespace="AWS/Sagemaker/ModelBuildingPipeline",
                        metric_name="ExecutionFailed",
                        dimensions_map={"PipelineName": pipeline.pipeline_name},
                        statistic="Sum",
                        period=Duration.hours(1),
                    ),
                    0,
                    _GT,
                    f"{pipeline.pipeline_name}: an execution failed",
                    evaluation_periods=1,
                )
                for kind, pipeline in self.pipelines.items()
            )
        )

    def _outputs(self, lake: LakeStack) -> None:
        for kind, pipeline in self.pipelines.items():
            CfnOutput(
                self,
                f"{kind.title()}PipelineName",
                value=pipeline.pipeline_name,
                description=f"SageMaker {kind} pipeline (start by hand:"
                " sagemaker start-pipeline-execution)",
            )
        for kind, group in self.model_groups.items():
            CfnOutput(
                self,
                f"{kind.title()}ModelGroupName",
                value=group.model_package_group_name,
                description=f"Model package group of the {kind} models (approve new versions"
                " here: sagemaker update-model-package)",
            )
        CfnOutput(
            self,
            "PipelineRoleArn",
            value=self.role.role_arn,
            description="Role the ML pipelines and their jobs run as",
        )
        CfnOutput(
            self,
            "ScoresUri",
            value=self._scores_uri(lake),
            description="Where the scoring pipeline writes customer scores (as_of=YYYY-MM-DD/)",
        )


def _scheduler_parameters(
    values: dict[str, str],
) -> scheduler.CfnSchedule.SageMakerPipelineParametersProperty:
    return scheduler.CfnSchedule.SageMakerPipelineParametersProperty(
        pipeline_parameter_list=[
            scheduler.CfnSchedule.SageMakerPipelineParameterProperty(name=name, value=value)
            for name, value in values.items()
        ]
    )
