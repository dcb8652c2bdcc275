"""Every cdk-nag AwsSolutions finding the platform accepts, each with its reason: the one place
to review them. Each acknowledgement names one construct and one finding, so a new finding
anywhere else still fails synth; a path that no longer exists fails synth too.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Acknowledgment as CdkAcknowledgment
from aws_cdk import Stage, Validations
from aws_cdk import custom_resources as cr
from constructs import IConstruct

from cdk_app.config import EVENTS_TOPIC, PlatformConfig
from stacks.lake import BUCKET_NAME, ZONES

_MANAGED_POLICY = "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/{}"
_LAMBDA_BASIC = f"AwsSolutions-IAM4[{_MANAGED_POLICY.format('AWSLambdaBasicExecutionRole')}]"
_LAMBDA_VPC = f"AwsSolutions-IAM4[{_MANAGED_POLICY.format('AWSLambdaVPCAccessExecutionRole')}]"
# AwsCustomResource shares one provider function per stack under this id.
_SDK_CALL_PROVIDER = "AWS" + cr.AwsCustomResource.PROVIDER_FUNCTION_UUID.replace("-", "")
# How cdk-nag prints the pseudo parameters inside a finding id.
_NAG_ACCOUNT = "<AWS::AccountId>"
_NAG_REGION = "<AWS::Region>"


@dataclass(frozen=True)
class Acknowledgement:
    path: str  # construct path below the stage, e.g. "Oltp/Database"
    rule: str  # the finding id cdk-nag prints, without the "AwsSolutions::" plugin prefix
    reason: str


def platform_acknowledgements(config: PlatformConfig) -> list[Acknowledgement]:
    env = config.env_name
    acks = []
    for function, purpose in (
        ("Oltp/DbMigratorFunction", "applies OLTP migrations"),
        ("Streaming/KafkaTopicsFunction", "manages Kafka topics"),
    ):
        acks += [
            Acknowledgement(
                function,
                "AwsSolutions-L1",
                f"Lambda that {purpose} runs Python 3.11 on purpose: the project targets 3.11"
                " (Glue 5.0 parity) and its pinned wheels are built for cp311.",
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


def acknowledge_findings(stage: Stage, config: PlatformConfig) -> int:
    """Record each acknowledgement on its construct; returns how many were recorded."""
    acks = platform_acknowledgements(config)
    for ack in acks:
        Validations.of(_find(stage, ack.path)).acknowledge(
            CdkAcknowledgment(id=f"AwsSolutions::{ack.rule}", reason=ack.reason)
        )
    return len(acks)
