"""Every template finding the platform accepts, each with its reason: the one place to review
them. Two scanners read the templates: cdk-nag's AwsSolutions pack inside synth (rule ids
AwsSolutions-*) and checkov over the synthesized templates (CKV_* ids, tests/infra/
test_checkov.py). Each acknowledgement names one construct and one finding, so a new finding
anywhere else still fails; a path that no longer exists fails synth too. cdk-nag takes them as
CDK acknowledgements; checkov reads them from the resource's `checkov.skip` template metadata,
so each reason also sits next to its resource in the template.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Acknowledgment as CdkAcknowledgment
from aws_cdk import CfnResource, Stage, Validations
from aws_cdk import custom_resources as cr
from constructs import IConstruct

from cdk_app.config import DeliveryConfig, PlatformConfig
from contracts.events.topics import (
    DEAD_LETTER_TOPIC,
    EVENTS_TOPIC,
    RAW_STREAM_GROUP_PREFIX,
)
from contracts.events.topics import PROCESSOR_CONSUMER_GROUP as PROCESSOR_GROUP
from contracts.lake import CUSTOMER_SCORES, JOB_ZONES, RECO_MARTS_PREFIX, ZONES
from sagemaker_pipelines.definitions.placeholders import ML_PREFIX, PipelineNames
from sagemaker_pipelines.definitions.sources import (
    CUSTOMER_FEATURES,
    ORDERS_FOLDER,
    RFM_SEGMENTS,
    TICKETS_FOLDER,
)
from stacks.constructs.raw_stream_job import (
    CHECKPOINT_PREFIX,
    GLUE_TEMP_PREFIX,
    RAW_STREAM_PREFIXES,
)
from stacks.delivery import CDK_QUALIFIER
from stacks.etl import GLUE_TEMP_PREFIX as ETL_TEMP_PREFIX
from stacks.etl import LAKE_BUCKETS
from stacks.lake import BUCKET_NAME

_MANAGED_POLICY = "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/{}"
_LAMBDA_BASIC = f"AwsSolutions-IAM4[{_MANAGED_POLICY.format('AWSLambdaBasicExecutionRole')}]"
_LAMBDA_VPC = f"AwsSolutions-IAM4[{_MANAGED_POLICY.format('AWSLambdaVPCAccessExecutionRole')}]"
# AwsCustomResource shares one provider function per stack under this id.
_SDK_CALL_PROVIDER = "AWS" + cr.AwsCustomResource.PROVIDER_FUNCTION_UUID.replace("-", "")
# How cdk-nag prints the pseudo parameters inside a finding id.
# Why the functions run python3.12 rather than the newest runtime.
_RUNTIME_REASON = (
    "runs Python 3.12 on purpose: the runtime nearest to the project's 3.11 (Glue 5.0 parity)"
    " on Amazon Linux 2023, whose glibc the confluent-kafka wheels need; the pinned wheels are"
    " resolved for cp312."
)
_NAG_ACCOUNT = "<AWS::AccountId>"
_NAG_REGION = "<AWS::Region>"


@dataclass(frozen=True)
class Acknowledgement:
    path: str  # construct path below the stage, e.g. "Oltp/Database"
    # The finding id: as cdk-nag prints it, without the "AwsSolutions::" plugin prefix, or a
    # checkov check id (CKV_...).
    rule: str
    reason: str

    @property
    def is_checkov(self) -> bool:
        return self.rule.startswith(CHECKOV_PREFIX)


CHECKOV_PREFIX = "CKV_"


def platform_acknowledgements(config: PlatformConfig) -> list[Acknowledgement]:
    env = config.env_name
    acks = []
    for function, purpose in (
        ("Oltp/DbMigratorFunction", "applies OLTP migrations"),
        ("Streaming/KafkaTopicsFunction", "manages Kafka topics"),
        ("Ingest/CollectorFunction", "publishes collected events to MSK"),
        ("Ingest/RecommendationsFunction", "serves product recommendations from PostgreSQL"),
        ("Realtime/StreamProcessorFunction", "keeps the real-time tables from the topic"),
    ):
        acks += [
            Acknowledgement(
                function,
                "AwsSolutions-L1",
                f"Lambda that {purpose} {_RUNTIME_REASON}",
            ),
            Acknowledgement(
                function,
                _LAMBDA_BASIC,
                "AWSLambdaBasicExecutionRole only grants writing this function's own logs.",
            ),
            Acknowledgement(
                function,
                _LAMBDA_VPC,
                "AWSLambdaVPCAccessExecutionRole only manages the ENIs a VPC-attached function"
                " needs to reach RDS or MSK in private subnets.",
            ),
        ]
    for stack, call in (
        ("Streaming", "kafka:GetBootstrapBrokers on the cluster"),
        ("Warehouse", "redshift-serverless:GetNamespace on the namespace"),
    ):
        if stack == "Warehouse" and config.warehouse.mode != "serverless":
            continue
        acks.append(
            Acknowledgement(
                f"{stack}/{_SDK_CALL_PROVIDER}",
                _LAMBDA_BASIC,
                f"CDK's SDK-call provider for {call}: its managed policy only writes its logs;"
                " the call itself is scoped by a separate inline policy.",
            )
        )
    acks += _realtime_acknowledgements(env)
    acks += _etl_acknowledgements(env)
    acks += _ml_acknowledgements(env)
    acks += _glue_network_acknowledgements()
    acks += _checkov_acknowledgements(config)
    if config.dashboards.enabled:
        acks += _dashboards_acknowledgements()
    acks += [
        Acknowledgement(
            "Oltp/Database",
            "AwsSolutions-RDS11",
            "The default port 5432 adds no exposure: the instance is private and its security"
            " group admits only the migrator and rotation groups. Tools keep their defaults.",
        ),
        *(
            Acknowledgement(
                "Warehouse/CopyRole",
                "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::"
                + BUCKET_NAME.format(env=env, role=zone, account=_NAG_ACCOUNT, region=_NAG_REGION)
                + "/*]",
                f"COPY reads objects anywhere in the {zone} zone bucket; s3:GetObject needs an"
                " object ARN. Read-only, one bucket, no other action.",
            )
            for zone in ZONES
        ),
        Acknowledgement(
            "Warehouse/StreamingIngestionRole",
            _kafka_finding(env, "group", "*"),
            "Redshift streaming ingestion names its own consumer groups; only Describe/Alter"
            " group on this cluster's groups, no topic or cluster-wide write.",
        ),
        Acknowledgement(
            "Warehouse/StreamingIngestionRole",
            _kafka_finding(env, "topic", EVENTS_TOPIC),
            f"Read-only on {EVENTS_TOPIC}; the only wildcard is the cluster uuid, and the"
            " cluster name is unique per account and region.",
        ),
        *(
            Acknowledgement(
                "Streaming/KafkaTopicsFunction",
                _kafka_finding(env, "topic", topic.name),
                f"Manages exactly {topic.name}; the only wildcard is the cluster uuid, and the"
                " cluster name is unique per account and region.",
            )
            for topic in config.streaming.topics
        ),
    ]
    acks.append(
        Acknowledgement(
            "Oltp/Database/MonitoringRole",
            f"AwsSolutions-IAM4[{_MANAGED_POLICY.format('AmazonRDSEnhancedMonitoringRole')}]",
            "AmazonRDSEnhancedMonitoringRole is the policy RDS documents for enhanced monitoring:"
            " it only writes the RDSOSMetrics log group; the role is assumable by RDS monitoring.",
        )
    )
    if config.warehouse.mode == "provisioned":
        acks.append(
            Acknowledgement(
                "Warehouse/Cluster",
                "AwsSolutions-RS4",
                "The default port 5439 adds no exposure: the cluster is private and its security"
                " group has no ingress until a named client group is admitted.",
            )
        )
    if not config.oltp.multi_az:
        acks.append(
            Acknowledgement(
                "Oltp/Database",
                "AwsSolutions-RDS3",
                f"{env} sets oltp.multi_az false to halve the instance cost; backups and"
                " point-in-time recovery still apply. prod runs multi-AZ.",
            )
        )
    if not config.oltp.deletion_protection:
        acks.append(
            Acknowledgement(
                "Oltp/Database",
                "AwsSolutions-RDS10",
                f"{env} sets oltp.deletion_protection false so the environment can be torn down;"
                " the instance is still RETAINed on stack deletion unless destroy_data is set.",
            )
        )
    return acks


def _realtime_acknowledgements(env: str) -> list[Acknowledgement]:
    """The collector API and the consumers of the events topic (stacks Ingest and Realtime)."""
    raw_stream = "Realtime/RawStreamJobRole"
    acks = [
        Acknowledgement(
            "Realtime/RedshiftSqlFunction",
            "AwsSolutions-L1",
            f"Lambda that applies the Redshift streaming-ingestion DDL {_RUNTIME_REASON}",
        ),
        Acknowledgement(
            "Realtime/RedshiftSqlFunction",
            _LAMBDA_BASIC,
            "AWSLambdaBasicExecutionRole only grants writing this function's own logs.",
        ),
        Acknowledgement(
            "Realtime/RedshiftSqlFunction",
            "AwsSolutions-IAM5[Resource::*]",
            "redshift-data:DescribeStatement and CancelStatement take no resource ARN; the Data"
            " API limits them to statements this role submitted itself.",
        ),
        Acknowledgement(
            "Realtime/StreamProcessorFunction",
            f"AwsSolutions-IAM4[{_MANAGED_POLICY.format('AWSLambdaMSKExecutionRole')}]",
            "AWSLambdaMSKExecutionRole is what the MSK event source mapping needs to describe the"
            " cluster and place its pollers' network interfaces; no topic or data access.",
        ),
        Acknowledgement(
            "Ingest/CollectorApi",
            "AwsSolutions-APIG4",
            "The collector is the public ingestion endpoint of browsers and apps, which hold no"
            " secret to sign with; each event is validated, requests are size-limited and the"
            " stage is throttled from config.",
        ),
        Acknowledgement(
            "Realtime/FailedBatches",
            "AwsSolutions-SQS3",
            "This queue is itself the dead-letter destination of the MSK event source mapping;"
            " its messages are offsets to replay, alarmed on as soon as one arrives.",
        ),
        Acknowledgement(
            raw_stream,
            "AwsSolutions-IAM5[Resource::*]",
            "Glue creates and describes the network interfaces of its VPC connection (EC2 calls"
            " without resource ARNs) and puts metrics only in the Glue namespace (a condition).",
        ),
        Acknowledgement(
            raw_stream,
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>"
            ":log-group:/aws-glue/*]",
            "Glue names the job's log groups under /aws-glue/ at run time (by security"
            " configuration and role); logs only.",
        ),
        *(
            Acknowledgement(
                raw_stream,
                f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::{bucket}/{prefix}*]",
                f"The streaming job writes objects under {prefix} only (Spark names its files);"
                " no other prefix of the bucket.",
            )
            for bucket, prefix in (
                *((_bucket(env, "raw"), prefix) for prefix in RAW_STREAM_PREFIXES),
                (_bucket(env, "artifacts"), CHECKPOINT_PREFIX),
                (_bucket(env, "artifacts"), GLUE_TEMP_PREFIX),
            )
        ),
    ]
    kafka_scopes = (
        ("Ingest/CollectorFunction", "topic", EVENTS_TOPIC, "Writes accepted events to"),
        ("Ingest/CollectorFunction", "topic", DEAD_LETTER_TOPIC, "Writes rejected events to"),
        ("Realtime/StreamProcessorFunction", "topic", EVENTS_TOPIC, "Reads events from"),
        (
            "Realtime/StreamProcessorFunction",
            "topic",
            DEAD_LETTER_TOPIC,
            "Writes poison records to",
        ),
        ("Realtime/StreamProcessorFunction", "group", PROCESSOR_GROUP, "Commits offsets as group"),
        (raw_stream, "topic", EVENTS_TOPIC, "Reads events from"),
        (raw_stream, "group", f"{RAW_STREAM_GROUP_PREFIX}*", "Uses only consumer groups named"),
    )
    acks += [
        Acknowledgement(
            path,
            _kafka_finding(env, resource, name),
            f"{verb} {name} alone; the only wildcard is the cluster uuid, and the cluster name is"
            " unique per account and region.",
        )
        for path, resource, name, verb in kafka_scopes
    ]
    return acks


def _glue_network_acknowledgements() -> list[Acknowledgement]:
    """The network interfaces Glue creates in the VPC for the jobs' connections (stacks
    Realtime and Etl): their ids exist only at run time."""
    ec2 = "arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>"
    return [
        Acknowledgement(
            role,
            f"AwsSolutions-IAM5[Resource::{ec2}:{kind}/*]",
            "Glue creates and deletes its workers' network interfaces at run time, so their ids"
            " are unknown; the statement is limited to the platform VPC (ec2:Vpc) and tagging"
            " to Glue's own tag key.",
        )
        for role in ("Realtime/RawStreamJobRole", "Etl/EtlJobRole", "Etl/RecommendationJobRole")
        for kind in ("network-interface", "security-group", "subnet")
    ]


def _dashboards_acknowledgements() -> list[Acknowledgement]:
    """QuickSight's VPC connection role (stack Dashboards)."""
    ec2 = "arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>"
    role = "Dashboards/VpcConnectionRole"
    return [
        Acknowledgement(
            role,
            "AwsSolutions-IAM5[Resource::*]",
            "QuickSight describes the subnets and security groups its VPC connection is given:"
            " ec2:DescribeSubnets and DescribeSecurityGroups take no resource ARN; read only.",
        ),
        *(
            Acknowledgement(
                role,
                f"AwsSolutions-IAM5[Resource::{ec2}:{kind}/*]",
                "QuickSight creates, modifies and deletes its connection's network interfaces at"
                " run time, so their ids are unknown; the statement is limited to the platform"
                " VPC (ec2:Vpc) and to those three interface actions.",
            )
            for kind in ("network-interface", "subnet", "security-group")
        ),
    ]


def _etl_acknowledgements(env: str) -> list[Acknowledgement]:
    """The batch Glue jobs' role and the catalog crawlers' role (stack Etl)."""
    role = "Etl/EtlJobRole"
    crawler = "Etl/CatalogCrawlerRole"
    return [
        Acknowledgement(
            role,
            "AwsSolutions-IAM5[Resource::*]",
            "Glue creates and describes the network interfaces of its VPC connection (EC2 calls"
            " without resource ARNs), puts metrics only in the Glue and data-quality namespaces"
            " (a condition), and the Data API's statement calls take no resource ARN (they are"
            " limited to the role's own statements).",
        ),
        Acknowledgement(
            role,
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>"
            ":log-group:/aws-glue/*]",
            "Glue names the jobs' log groups under /aws-glue/ at run time (by security"
            " configuration and role); logs only.",
        ),
        *(
            Acknowledgement(
                role,
                f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::{_bucket(env, bucket)}/*]",
                f"The batch jobs read and write the whole {bucket} bucket: they own its tables,"
                " state and temporary files (object actions only, no bucket administration).",
            )
            for bucket in LAKE_BUCKETS
        ),
        *_recommendation_job_acknowledgements(env),
        Acknowledgement(
            crawler,
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>"
            ":log-group:/aws-glue/*]",
            "Glue names the crawlers' log groups under /aws-glue/ at run time; logs only.",
        ),
        *(
            Acknowledgement(
                crawler,
                f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::{_bucket(env, zone)}/*]",
                f"The {zone} zone's crawler reads the objects of its bucket (read only); the"
                " tables it keeps are named in its targets.",
            )
            for zone in JOB_ZONES.values()
        ),
    ]


def _recommendation_job_acknowledgements(env: str) -> list[Acknowledgement]:
    """build_recommendations' own role (stack Etl)."""
    role = "Etl/RecommendationJobRole"
    s3 = "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::"
    return [
        Acknowledgement(
            role,
            "AwsSolutions-IAM5[Resource::*]",
            "Glue creates and describes the network interfaces of its VPC connection (EC2 calls"
            " without resource ARNs) and puts metrics only in the Glue namespace (a condition).",
        ),
        Acknowledgement(
            role,
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>"
            ":log-group:/aws-glue/*]",
            "Glue names the job's log groups under /aws-glue/ at run time; logs only.",
        ),
        *(
            Acknowledgement(
                role,
                f"{s3}{_bucket(env, zone)}/*]",
                f"The job reads the {zone} zone's tables, whose files Spark names at run time"
                " (object reads only, no writes).",
            )
            for zone in ("raw", "curated")
        ),
        Acknowledgement(
            role,
            f"{s3}{_bucket(env, 'marts')}/{RECO_MARTS_PREFIX}*]",
            "The job replaces its own tables, the marts zone's reco_* folders, whose files Spark"
            " names at run time; no other mart.",
        ),
        Acknowledgement(
            role,
            f"{s3}{_bucket(env, 'artifacts')}/{ETL_TEMP_PREFIX}/*]",
            "Spark's temporary files of the job, named at run time, under the Glue temp prefix"
            " only.",
        ),
    ]


def _ml_acknowledgements(env: str) -> list[Acknowledgement]:
    """The SageMaker pipelines' role (stack Ml)."""
    role = "Ml/PipelineRole"
    names = PipelineNames.for_prefix(f"ecommerce-{env}")
    sagemaker = f"arn:<AWS::Partition>:sagemaker:{_NAG_REGION}:{_NAG_ACCOUNT}"
    objects = (
        ("raw", ORDERS_FOLDER, "reads the orders extract"),
        ("raw", TICKETS_FOLDER, "reads the support tickets extract"),
        ("marts", CUSTOMER_FEATURES, "reads the customer_features mart"),
        ("marts", RFM_SEGMENTS, "reads the RFM segments mart"),
        ("curated", CUSTOMER_SCORES, "writes the customer scores, one partition per day"),
        ("artifacts", ML_PREFIX, "keeps each run's prepared data, model and evaluation"),
    )
    return [
        *(
            Acknowledgement(
                role,
                f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::{_bucket(env, bucket)}"
                f"/{folder}/*]",
                f"The ML pipelines' jobs: {purpose} under {folder}/ only (object names are"
                " chosen at run time); no other prefix of the bucket.",
            )
            for bucket, folder, purpose in objects
        ),
        *(
            Acknowledgement(
                role,
                f"AwsSolutions-IAM5[Resource::{sagemaker}:{kind}-job/pipelines-*]",
                f"SageMaker Pipelines names each {kind} job pipelines-<execution>-<step>-<suffix>"
                " at run time; only job actions, only those jobs.",
            )
            for kind in ("processing", "training")
        ),
        *(
            Acknowledgement(
                role,
                f"AwsSolutions-IAM5[Resource::{sagemaker}:model-package/{group}/*]",
                f"Model package versions are numbered by SageMaker inside {group}; only"
                " register and describe, only in this group.",
            )
            for group in (names.churn_group, names.clv_group)
        ),
        *(
            Acknowledgement(
                role,
                "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:"
                f"<AWS::AccountId>:log-group:/aws/sagemaker/{jobs}:*]",
                f"SageMaker writes the jobs' logs to streams it names in /aws/sagemaker/{jobs};"
                " logs only.",
            )
            for jobs in ("ProcessingJobs", "TrainingJobs")
        ),
        Acknowledgement(
            role,
            "AwsSolutions-IAM5[Resource::*]",
            "sagemaker:ListModelPackages takes no resource ARN: the scoring step lists a"
            " group's approved packages to find the latest; the EC2 Describe calls SageMaker"
            " makes to place the jobs in the VPC take none either. Read only, nothing else"
            " on *.",
        ),
        *(
            Acknowledgement(
                role,
                f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:{_NAG_REGION}:"
                f"{_NAG_ACCOUNT}:{kind}/*]",
                "SageMaker creates and deletes the jobs' network interfaces at run time, so"
                " their ids are unknown; limited to the platform VPC (ec2:Vpc condition).",
            )
            for kind in ("network-interface", "security-group", "subnet")
        ),
    ]


# CDK's own singleton functions behind custom resources: the SDK-call provider of
# AwsCustomResource, the default security group's restriction and, with destroy_data, the
# bucket emptier. They run only while CloudFormation deploys, calling AWS APIs.
_CDK_PROVIDER_REASONS = {
    "CKV_AWS_115": "CDK's deploy-time provider function runs once per custom resource change;"
    " reserving concurrency for it would only take from the account's pool.",
    "CKV_AWS_116": "CDK's deploy-time provider function is invoked synchronously by"
    " CloudFormation, which reports a failure on the stack event: a DLQ would stay empty.",
    "CKV_AWS_117": "CDK's deploy-time provider function calls public AWS APIs only (no VPC"
    " resource); a VPC would add ENIs and endpoints for nothing.",
}


def _checkov_acknowledgements(config: PlatformConfig) -> list[Acknowledgement]:
    """The checkov findings the platform accepts (tests/infra/test_checkov.py runs it)."""
    providers = [
        "Network/Custom::VpcRestrictDefaultSGCustomResourceProvider/Handler",
        f"Streaming/{_SDK_CALL_PROVIDER}",
    ]
    if config.warehouse.mode == "serverless":
        providers.append(f"Warehouse/{_SDK_CALL_PROVIDER}")
    if config.destroy_data:
        providers.append("Lake/Custom::S3AutoDeleteObjectsCustomResourceProvider/Handler")
    acks = [
        Acknowledgement(provider, rule, reason)
        for provider in providers
        for rule, reason in _CDK_PROVIDER_REASONS.items()
    ]
    acks += [
        *(
            Acknowledgement(
                function,
                "CKV_AWS_173",
                "The environment holds settings only (broker addresses, topic names, a secret's"
                " ARN, a database host and user name, never a secret value); Lambda encrypts it"
                " at rest with its AWS managed key, and secrets are read from Secrets Manager or"
                " signed as IAM tokens at run time.",
            )
            for function in (
                "Ingest/CollectorFunction",
                "Ingest/RecommendationsFunction",
                "Realtime/StreamProcessorFunction",
            )
        ),
        Acknowledgement(
            "Realtime/RedshiftSqlFunction",
            "CKV_AWS_117",
            "Runs the streaming-ingestion DDL through the Redshift Data API, a public AWS"
            " endpoint; it opens no connection to a VPC resource, so it needs no VPC.",
        ),
        Acknowledgement(
            "Lake/AccessLogsBucket",
            "CKV_AWS_18",
            "This is the lake's server access log bucket: logging its own accesses into itself"
            " would log each log delivery, without end.",
        ),
        Acknowledgement(
            "Lake/AccessLogsBucket",
            "CKV_AWS_21",
            "S3 delivers access logs as new objects that are never rewritten and expire after"
            " lake.access_log_expiration_days; old versions would hold nothing.",
        ),
    ]
    if config.warehouse.mode == "provisioned":
        acks.append(
            Acknowledgement(
                "Warehouse/Cluster",
                "CKV_AWS_71",
                "Audit logging is on, to CloudWatch Logs (connection, user and user-activity"
                " logs); the check only recognises the older S3 destination (BucketName).",
            )
        )
    if not config.oltp.multi_az:
        acks.append(
            Acknowledgement(
                "Oltp/Database",
                "CKV_AWS_157",
                f"{config.env_name} runs a single-AZ instance (oltp.multi_az false) to halve"
                " its cost; backups and point-in-time recovery still apply; prod is multi-AZ.",
            )
        )
    return acks


def _bucket(env: str, role: str) -> str:
    return BUCKET_NAME.format(env=env, role=role, account=_NAG_ACCOUNT, region=_NAG_REGION)


def _kafka_finding(env: str, resource: str, name: str) -> str:
    """The IAM5 finding for one MSK ARN built by StreamingStack._kafka_arn."""
    return (
        f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:kafka:{_NAG_REGION}:{_NAG_ACCOUNT}:"
        f"{resource}/ecommerce-{env}/*/{name}]"
    )


def _find(stage: Stage, path: str) -> IConstruct:
    node: IConstruct = stage
    for part in path.split("/"):
        node = node.node.find_child(part)
    return node


def _cfn_resource(construct: IConstruct) -> CfnResource:
    """The template resource of a construct: itself, or its default child."""
    resource = construct if isinstance(construct, CfnResource) else construct.node.default_child
    if not isinstance(resource, CfnResource):
        raise ValueError(f"{construct.node.path} is no template resource")
    return resource


def _skip_in_checkov(resource: CfnResource, ack: Acknowledgement) -> None:
    skips = (resource.get_metadata("checkov") or {}).get("skip", [])
    resource.add_metadata("checkov", {"skip": [*skips, {"id": ack.rule, "comment": ack.reason}]})


def acknowledge_findings(stage: Stage, config: PlatformConfig) -> int:
    """Record each acknowledgement on its construct; returns how many were recorded."""
    acks = platform_acknowledgements(config)
    for ack in acks:
        construct = _find(stage, ack.path)
        if ack.is_checkov:
            _skip_in_checkov(_cfn_resource(construct), ack)
        else:
            Validations.of(construct).acknowledge(
                CdkAcknowledgment(id=f"AwsSolutions::{ack.rule}", reason=ack.reason)
            )
    return len(acks)


def delivery_acknowledgements(config: DeliveryConfig) -> list[Acknowledgement]:
    """The deployment identity's roles (stacks/delivery.py) name what they reach by the
    platform's name patterns: the stack exists before any environment does."""
    deploy_policy = "Identity/DeployRole/DefaultPolicy/Resource"
    smoke_policy = "Identity/SmokeTestRole/DefaultPolicy/Resource"
    arn = f"arn:<AWS::Partition>:{{}}:{_NAG_REGION}:{_NAG_ACCOUNT}:{{}}"
    acks = [
        Acknowledgement(
            deploy_policy,
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:role/"
            f"cdk-{CDK_QUALIFIER}-*-{_NAG_ACCOUNT}-{_NAG_REGION}]",
            "the deploy role may assume only the CDK bootstrap roles of this account and region"
            " (deploy, file publishing, lookup, CloudFormation execution), whose names differ"
            " only in the kind part the wildcard stands for",
        ),
        Acknowledgement(
            smoke_policy,
            "AwsSolutions-IAM5[Resource::*]",
            "DescribeStatement, GetStatementResult and CancelStatement of the Redshift Data API"
            " take no resource ARN; the service limits them to the caller's own statements",
        ),
        Acknowledgement(
            smoke_policy,
            f"AwsSolutions-IAM5[Resource::{arn.format('kms', 'key/*')}]",
            "decrypting the Redshift-managed admin secret, only through Secrets Manager"
            " (kms:ViaService condition): the warehouse key's id is unknown to this stack,"
            " which is deployed before any environment",
        ),
        Acknowledgement(
            smoke_policy,
            f"AwsSolutions-IAM5[Resource::{arn.format('redshift-serverless', 'workgroup/*')}]",
            "Redshift Serverless workgroup ARNs end in a generated id, not the workgroup name,"
            " so the smoke test's Data API queries cannot be scoped to ecommerce-<env> by name",
        ),
    ]
    patterns = (
        ("cloudformation", "stack/{env}-*/*", "the stacks of the environment, <env>-<Concern>"),
        ("glue", "workflow/ecommerce-{env}-*", "the batch workflow of the environment"),
        ("sagemaker", "pipeline/ecommerce-{env}-*", "the training and scoring pipelines"),
        ("quicksight", "dashboard/ecommerce-{env}-*", "the QuickSight dashboards"),
        ("secretsmanager", "secret:redshift!ecommerce-{env}-*", "the warehouse admin secret"),
    )
    for env in config.deploy_environments:
        for service, resource, what in patterns:
            acks.append(
                Acknowledgement(
                    smoke_policy,
                    f"AwsSolutions-IAM5[Resource::{arn.format(service, resource.format(env=env))}]",
                    f"the smoke test reads {what} of {env}, named by the platform's prefix;"
                    " the names are known, their generated suffixes are not",
                )
            )
    return acks


def acknowledge_delivery_findings(stage: Stage, config: DeliveryConfig) -> int:
    """Record each acknowledgement of the delivery stage; returns how many were recorded."""
    acks = delivery_acknowledgements(config)
    for ack in acks:
        Validations.of(_find(stage, ack.path)).acknowledge(
            CdkAcknowledgment(id=f"AwsSolutions::{ack.rule}", reason=ack.reason)
        )
    return len(acks)
