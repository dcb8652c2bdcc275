"""ML: the SageMaker pipelines that train and score the churn and CLV models.

- the project's source as one tarball asset (the step scripts and the modelling code);
- two model package groups, churn and CLV: each training run registers its one artifact in
  both, PendingManualApproval;
- the training and scoring pipelines, from the definitions sagemaker_pipelines/definitions
  builds offline, their placeholders replaced by this deployment's buckets, role, region image
  and source;
- one role the pipelines and their jobs run as, limited to the lake prefixes they read and
  write, the artifacts bucket's ml/ prefix, the lake key, the scores' catalog table, their
  own jobs and groups, and network interfaces in the platform VPC;
- the jobs' security group: every processing and training job runs in the VPC's private
  subnets (no internet route) and reaches AWS through its endpoints (HTTPS only), and the
  OLTP database on its port (scoring upserts ml.customer_scores with the RDS secret);
- the curated zone's customer_scores Glue table (columns from the warehouse contract,
  partitioned by as_of), whose daily partitions the scoring step registers;
- EventBridge Scheduler schedules (weekly training, daily scoring, cron from config) passing the
  pipelines' parameters, and a rule that starts scoring when a churn model is approved;
- alarms on failed executions, on the platform dashboard and alarm topic.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Aws, CfnMapping, CfnOutput, Duration, Fn
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_scheduler as scheduler
from constructs import Construct

from contracts.lake import CUSTOMER_SCORES, CUSTOMER_SCORES_PARTITION
from contracts.warehouse.loads import warehouse_loads
from contracts.warehouse.tables import glue_type
from sagemaker_pipelines.definitions import placeholders
from sagemaker_pipelines.definitions.build import pipeline_definitions, training_defaults
from sagemaker_pipelines.definitions.placeholders import ML_PREFIX, PipelineNames
from sagemaker_pipelines.definitions.processors import sklearn_image_accounts
from sagemaker_pipelines.definitions.sources import (
    CUSTOMER_FEATURES,
    ORDERS_FOLDER,
    RFM_SEGMENTS,
    TICKETS_FOLDER,
)
from stacks.constructs.alarms import AlarmSpec
from stacks.constructs.database import Database
from stacks.constructs.keys import ENCRYPT_DECRYPT, decrypt_through_secrets_manager
from stacks.constructs.source_tarball import SourceTree, source_tarball
from stacks.foundation import Foundation
from stacks.lake import LakeStack
from stacks.monitoring import MonitoringStack
from stacks.network import HTTPS_PORT, POSTGRES_PORT, NetworkStack
from stacks.platform_stack import PlatformStack

# What the step scripts import: the modelling code, the steps and the lake layout (the
# definitions stay behind: they need the SDK, which the image does not run), and the
# pure-Python packages the stock image lacks: awswrangler, and its two small dependencies in
# case the image has none (vendor/ goes last on sys.path: the image's own copies win), and
# pg8000 for the OLTP upsert.
ML_SOURCE = SourceTree(
    paths=(
        "sagemaker_pipelines",
        "contracts/__init__.py",
        "contracts/lake.py",
        "contracts/database.py",
    ),
    excluded=("sagemaker_pipelines/definitions",),
    vendored=(
        "awswrangler",
        "packaging",
        "typing_extensions",
        # The scoring step's PostgreSQL driver (pure Python) and its SCRAM login.
        "pg8000",
        "scramp",
        "asn1crypto",
    ),
)
IMAGE_ACCOUNTS_MAPPING = "SklearnImageAccounts"
# SageMaker names a pipeline's jobs pipelines-<execution id>-<step>-<suffix>.
PIPELINE_JOB_NAMES = "pipelines-*"
# The scoring step registers its day's partition in the stack's customer_scores table
# (awswrangler reads the table, lists its partitions and adds the new one; never the schema).
CATALOG_ACTIONS = [
    "glue:GetTable",
    "glue:GetPartition",
    "glue:GetPartitions",
    "glue:BatchCreatePartition",
]
# Jobs in a VPC: SageMaker creates their network interfaces as the role. The Describe calls
# take no resource ARN.
VPC_DESCRIBE_ACTIONS = [
    "ec2:DescribeDhcpOptions",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSubnets",
    "ec2:DescribeVpcs",
]
VPC_INTERFACE_ACTIONS = [
    "ec2:CreateNetworkInterface",
    "ec2:CreateNetworkInterfacePermission",
    "ec2:DeleteNetworkInterface",
    "ec2:DeleteNetworkInterfacePermission",
]
PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
PARQUET_INPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
PARQUET_OUTPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
_GT = cw.ComparisonOperator.GREATER_THAN_THRESHOLD


class MlStack(PlatformStack):
    def __init__(
        self, scope: Construct, construct_id: str, *, foundation: Foundation, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        lake = foundation.lake
        self.names = PipelineNames.for_prefix(self.prefix)
        self.source = source_tarball(self, "PipelineSource", ML_SOURCE)
        self.subnet_ids = foundation.network.vpc.select_subnets(
            subnet_type=foundation.network.private_subnets.subnet_type
        ).subnet_ids
        self.jobs_security_group = self._jobs_security_group(foundation.network)
        database = foundation.oltp.database
        # Scoring upserts the day into the OLTP database's ml.customer_scores.
        database.admit_clients(self.jobs_security_group)
        self.jobs_security_group.add_egress_rule(
            database.security_group, ec2.Port.tcp(POSTGRES_PORT), "PostgreSQL (OLTP scores)"
        )
        self.scores_table = self._scores_table(lake)
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
        self.database_secret_arn = database.secret.secret_arn
        self.role = self._pipeline_role(lake, self.source, foundation.network, database)
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

    def _jobs_security_group(self, network: NetworkStack) -> ec2.SecurityGroup:
        """The processing and training jobs' group: no ingress; egress HTTPS only, to the
        interface endpoints and S3's gateway endpoint (the subnets have no other route)."""
        group = ec2.SecurityGroup(
            self,
            "PipelineJobsSg",
            vpc=network.vpc,
            description="SageMaker pipeline jobs (processing, training)",
            allow_all_outbound=False,
        )
        group.add_egress_rule(
            ec2.Peer.any_ipv4(),
            ec2.Port.tcp(HTTPS_PORT),
            "HTTPS to the VPC endpoints and the S3 gateway endpoint (no internet route)",
        )
        network.admit_to_endpoints(group)
        return group

    def _scores_table(self, lake: LakeStack) -> glue.CfnTable:
        """The curated zone's customer_scores table: the warehouse contract's columns (Glue
        types), the partition column as a partition key; the scoring step adds partitions."""
        load = warehouse_loads()[CUSTOMER_SCORES]
        columns = [
            glue.CfnTable.ColumnProperty(name=column.name, type=glue_type(column.type))
            for column in load.table.columns
            if column.name != CUSTOMER_SCORES_PARTITION
        ]
        (partition,) = (c for c in load.table.columns if c.name == CUSTOMER_SCORES_PARTITION)
        return glue.CfnTable(
            self,
            "CustomerScoresTable",
            catalog_id=self.account,
            database_name=lake.catalog_database_name("curated"),
            table_input=glue.CfnTable.TableInputProperty(
                name=CUSTOMER_SCORES,
                description="Churn and CLV scores per customer and scoring day (ML scoring"
                " pipeline); one partition per as_of",
                table_type="EXTERNAL_TABLE",
                parameters={"classification": "parquet", "EXTERNAL": "TRUE"},
                partition_keys=[
                    glue.CfnTable.ColumnProperty(
                        name=partition.name, type=glue_type(partition.type)
                    )
                ],
                storage_descriptor=glue.CfnTable.StorageDescriptorProperty(
                    columns=columns,
                    location=self._scores_uri(lake),
                    input_format=PARQUET_INPUT,
                    output_format=PARQUET_OUTPUT,
                    serde_info=glue.CfnTable.SerdeInfoProperty(serialization_library=PARQUET_SERDE),
                ),
            ),
        )

    def _pipeline_role(
        self, lake: LakeStack, source: s3_assets.Asset, network: NetworkStack, database: Database
    ) -> iam.Role:
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
                    f"{lake.bucket_arn('marts')}/{RFM_SEGMENTS}/*",
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
                    ("marts", RFM_SEGMENTS),
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
            iam.PolicyStatement(actions=VPC_DESCRIBE_ACTIONS, resources=["*"]),
            iam.PolicyStatement(
                actions=VPC_INTERFACE_ACTIONS,
                resources=[
                    f"arn:{Aws.PARTITION}:ec2:{Aws.REGION}:{Aws.ACCOUNT_ID}:{kind}/*"
                    for kind in ("network-interface", "subnet", "security-group")
                ],
                conditions={"ArnEquals": {"ec2:Vpc": network.vpc.vpc_arn}},
            ),
            iam.PolicyStatement(
                actions=["secretsmanager:GetSecretValue"], resources=[database.secret.secret_arn]
            ),
        ]
        if database.secret.encryption_key is not None:
            statements.append(
                decrypt_through_secrets_manager(database.secret.encryption_key.key_arn)
            )
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
            placeholders.CURATED_DATABASE: lake.catalog_database_name("curated"),
            placeholders.SECURITY_GROUP: self.jobs_security_group.security_group_id,
            placeholders.DATABASE_SECRET: self.database_secret_arn,
            **dict(zip(placeholders.subnets(len(self.subnet_ids)), self.subnet_ids, strict=True)),
        }
        definitions = pipeline_definitions(
            self.names, training_defaults(self.config.ml), subnet_count=len(self.subnet_ids)
        )
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
            # The pipeline starts jobs as the role: its policy must exist first; scoring
            # registers partitions in the scores table.
            pipeline.node.add_dependency(self.role)
            pipeline.node.add_dependency(self.scores_table)
            pipelines[kind] = pipeline
        return pipelines

    def _schedule_parameters(self, lake: LakeStack) -> dict[str, dict[str, str]]:
        """What each pipeline is started with: config's horizon and thresholds, and the lake."""
        uris = {
            "OrdersUri": f"s3://{lake.bucket_name('raw')}/{ORDERS_FOLDER}/",
            "TicketsUri": f"s3://{lake.bucket_name('raw')}/{TICKETS_FOLDER}/",
            "FeaturesUri": f"s3://{lake.bucket_name('marts')}/{CUSTOMER_FEATURES}/",
        }
        return {
            "training": {
                **uris,
                **{
                    name: str(value)
                    for name, value in training_defaults(self.config.ml).parameters().items()
                },
            },
            "scoring": {
                **uris,
                "RfmSegmentsUri": f"s3://{lake.bucket_name('marts')}/{RFM_SEGMENTS}/",
                "ScoresUri": self._scores_uri(lake),
            },
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
