"""The Glue streaming job that lands the events topic in the raw zone (Parquet by event date
and hour, rejected records in the raw quarantine): its Kafka connection into the VPC, its
encryption, its role scoped to its own prefixes, and the trigger that keeps it running.
"""

from __future__ import annotations

from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam

from contracts.events.topics import EVENTS_TOPIC, RAW_STREAM_GROUP_PREFIX
from contracts.lake import RAW_STREAM_EVENTS, RAW_STREAM_QUARANTINE
from stacks.constructs.glue_assets import (
    GlueJobAssets,
    glue_connection_statements,
    glue_job_assets,
    glue_metrics_statement,
)
from stacks.constructs.glue_security import GlueEncryption, glue_encryption, glue_vpc_connection
from stacks.constructs.python_lambda import LambdaSource
from stacks.lake import LakeStack
from stacks.network import NetworkStack
from stacks.platform_stack import PlatformStack
from stacks.streaming import StreamingStack

RAW_STREAM_SOURCE = LambdaSource(
    paths=("glue_jobs", "contracts/__init__.py", "contracts/events", "contracts/lake.py"),
    requirements="glue_jobs/requirements.txt",
)
RAW_STREAM_SCRIPT = "glue_jobs/stream_events_to_raw.py"
# Raw-zone prefixes the job writes (contracts/lake.py) and where it keeps its checkpoints.
RAW_STREAM_PREFIXES = (RAW_STREAM_EVENTS, RAW_STREAM_QUARANTINE)
CHECKPOINT_PREFIX = "checkpoints/stream_events_to_raw"
GLUE_TEMP_PREFIX = "glue-temp/stream_events_to_raw"


class RawStreamJob:
    """`job` (construct ids RawStream*, KafkaConnection, GlueKey) and the raw-zone URIs it
    writes."""

    def __init__(
        self,
        scope: PlatformStack,
        *,
        network: NetworkStack,
        streaming: StreamingStack,
        lake: LakeStack,
    ) -> None:
        realtime = scope.config.realtime
        self.connection_name = f"{scope.prefix}-msk"
        connection = self._kafka_connection(scope, network, streaming)
        encryption = glue_encryption(
            scope,
            scope.config,
            key_id="GlueKey",
            key_purpose="Glue job logs and bookmarks",
            configuration_id="RawStreamSecurity",
            configuration_name=f"{scope.prefix}-raw-stream",
            lake_key=lake.key,
        )
        assets = glue_job_assets(scope, "RawStream", RAW_STREAM_SCRIPT, RAW_STREAM_SOURCE)
        role = self._role(scope, network, streaming, lake, encryption, assets)
        raw_bucket, artifacts_bucket = lake.bucket_name("raw"), lake.bucket_name("artifacts")
        self.events_uri, self.quarantine_uri = (
            f"s3://{raw_bucket}/{prefix}/" for prefix in RAW_STREAM_PREFIXES
        )
        self.job = glue.CfnJob(
            scope,
            "RawStreamJob",
            name=f"{scope.prefix}-stream-events-to-raw",
            description="Events topic -> raw zone (Parquet by event date and hour) + quarantine",
            role=role.role_arn,
            command=assets.command("gluestreaming"),
            glue_version="5.0",
            worker_type=realtime.raw_stream_worker_type,
            number_of_workers=realtime.raw_stream_workers,
            connections=glue.CfnJob.ConnectionsListProperty(connections=[self.connection_name]),
            security_configuration=encryption.security_configuration.ref,
            execution_property=glue.CfnJob.ExecutionPropertyProperty(max_concurrent_runs=1),
            default_arguments={
                **assets.default_arguments(),
                "--TempDir": f"s3://{artifacts_bucket}/{GLUE_TEMP_PREFIX}/",
                "--bootstrap_servers": streaming.bootstrap_brokers,
                "--topic": EVENTS_TOPIC,
                "--kafka_auth": "iam",
                "--raw_uri": f"s3://{raw_bucket}",
                "--checkpoint_uri": f"s3://{artifacts_bucket}/{CHECKPOINT_PREFIX}",
                "--trigger_seconds": str(realtime.raw_stream_trigger_seconds),
                "--consumer_group_prefix": RAW_STREAM_GROUP_PREFIX,
            },
        )
        self.job.node.add_dependency(connection)
        # A streaming job runs until it fails; this schedule starts it after a deploy and
        # restarts it within 15 minutes of a failure (a start while it runs is refused).
        glue.CfnTrigger(
            scope,
            "RawStreamKeepRunning",
            name=f"{scope.prefix}-stream-events-to-raw-keep-running",
            description="Starts the raw-stream job when it is not running",
            type="SCHEDULED",
            schedule="cron(0/15 * * * ? *)",
            start_on_creation=True,
            actions=[glue.CfnTrigger.ActionProperty(job_name=self.job.ref)],
        )

    def _kafka_connection(
        self, scope: PlatformStack, network: NetworkStack, streaming: StreamingStack
    ) -> glue.CfnConnection:
        """The Glue connection that places the job's workers in a private subnet, with a group
        that MSK and the endpoints admit."""
        connection, workers = glue_vpc_connection(
            scope,
            "KafkaConnection",
            network=network,
            workers_group_id="RawStreamJobSg",
            workers_description="raw-stream Glue job",
            name=self.connection_name,
            description="MSK over IAM auth, from the platform's private subnets",
            connection_type="KAFKA",
            properties={
                "KAFKA_BOOTSTRAP_SERVERS": streaming.bootstrap_brokers,
                "KAFKA_SSL_ENABLED": "true",
                "KAFKA_SASL_MECHANISM": "AWS_MSK_IAM",
            },
        )
        streaming.admit_clients(workers)
        return connection

    def _role(
        self,
        scope: PlatformStack,
        network: NetworkStack,
        streaming: StreamingStack,
        lake: LakeStack,
        encryption: GlueEncryption,
        assets: GlueJobAssets,
    ) -> iam.Role:
        role = iam.Role(
            scope,
            "RawStreamJobRole",
            assumed_by=iam.ServicePrincipal("glue.amazonaws.com"),
            description="Glue job stream_events_to_raw: reads the events topic, writes raw",
        )
        assets.grant_read(role)
        streaming.grant_consume(role, EVENTS_TOPIC, f"{RAW_STREAM_GROUP_PREFIX}*")
        _grant_storage(role, lake)
        statements = [
            *encryption.role_statements(),
            glue_metrics_statement(),
            *glue_connection_statements(self.connection_name, network.vpc),
        ]
        for statement in statements:
            role.add_to_policy(statement)
        return role


def _grant_storage(role: iam.Role, lake: LakeStack) -> None:
    """Write the job's two raw-zone tables, and its checkpoints and temporary files in the
    artifacts bucket; nothing else in either bucket (both use the lake key). `prefix*` rather
    than `prefix/*`: the S3 file system also reads and writes the key beside each folder (the
    folder's own name, and its `_$folder$` marker)."""
    raw, artifacts = lake.bucket_arn("raw"), lake.bucket_arn("artifacts")
    prefixes = {
        raw: list(RAW_STREAM_PREFIXES),
        artifacts: [CHECKPOINT_PREFIX, GLUE_TEMP_PREFIX],
    }
    for bucket, bucket_prefixes in prefixes.items():
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:ListBucket"],
                resources=[bucket],
                conditions={"StringLike": {"s3:prefix": [f"{p}*" for p in bucket_prefixes]}},
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                resources=[f"{bucket}/{p}*" for p in bucket_prefixes],
            )
        )
