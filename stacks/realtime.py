"""Realtime: the consumers of the events topic.

- the stream processor Lambda, fed by an MSK event source mapping (batch size and window from
  config); a batch that still fails after its retries is parked on an SQS queue;
- the Glue streaming job that lands the topic in the raw zone (Parquet by event date and
  hour, rejected records in the raw quarantine), in the VPC through a Kafka connection;
- Redshift streaming ingestion: the redshift_sql custom resource applies
  contracts/warehouse/streaming through the Data API;
- alarms on consumer lag, Lambda errors and throttles, and parked batches.
"""

from __future__ import annotations

from aws_cdk import CfnOutput, CustomResource, Duration, Stack
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from cdk_app.config import DEAD_LETTER_TOPIC, EVENTS_TOPIC, PlatformConfig
from contracts.warehouse import scripts_checksum
from stacks.constructs.alarms import AlarmSpec
from stacks.constructs.glue_assets import (
    GlueJobAssets,
    glue_connection_statements,
    glue_job_assets,
)
from stacks.constructs.glue_security import GlueEncryption, glue_encryption, glue_workers_placement
from stacks.constructs.keys import decrypt_through_secrets_manager
from stacks.constructs.python_lambda import LambdaSource, python_function
from stacks.lake import LakeStack
from stacks.monitoring import MonitoringStack
from stacks.network import HTTPS_PORT, MSK_IAM_PORT, NetworkStack
from stacks.oltp import OltpStack
from stacks.streaming import StreamingStack
from stacks.warehouse import WarehouseStack

STREAM_PROCESSOR_SOURCE = LambdaSource(
    paths=(
        "lambdas/stream_processor",
        "lambdas/__init__.py",
        "lambdas/shared",
        "contracts/__init__.py",
        "contracts/database.py",
        "contracts/events",
    ),
    requirements="lambdas/stream_processor/requirements.txt",
)
REDSHIFT_SQL_SOURCE = LambdaSource(
    paths=(
        "lambdas/redshift_sql",
        "lambdas/__init__.py",
        "lambdas/shared/__init__.py",
        "lambdas/shared/custom_resource.py",
        "contracts/__init__.py",
        "contracts/warehouse",
    ),
    requirements="lambdas/redshift_sql/requirements.txt",
)
RAW_STREAM_SOURCE = LambdaSource(
    paths=("glue_jobs", "contracts/__init__.py", "contracts/events"),
    requirements="glue_jobs/requirements.txt",
)
RAW_STREAM_SCRIPT = "glue_jobs/stream_events_to_raw.py"
# Consumer groups: fixed names, so IAM can name them and the lag alarms can find them.
PROCESSOR_CONSUMER_GROUP = "ecommerce-stream-processor"
RAW_STREAM_GROUP_PREFIX = "ecommerce-raw-stream"
# Raw-zone prefixes the job writes (glue_jobs/lake.py) and where it keeps its checkpoints.
RAW_STREAM_PREFIXES = ("events_stream", "quarantine/events_stream")
CHECKPOINT_PREFIX = "checkpoints/stream_events_to_raw"
GLUE_TEMP_PREFIX = "glue-temp/stream_events_to_raw"
STREAMING_VIEW = "streaming.events"
_FIVE_MINUTES = Duration.minutes(5)
_GT = cw.ComparisonOperator.GREATER_THAN_THRESHOLD


class RealtimeStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: PlatformConfig,
        network: NetworkStack,
        streaming: StreamingStack,
        oltp: OltpStack,
        lake: LakeStack,
        warehouse: WarehouseStack,
        monitoring: MonitoringStack,
        **kwargs,
    ):
        super().__init__(scope, construct_id, **kwargs)
        self.config = config
        self.prefix = f"ecommerce-{config.env_name}"
        self._admit_event_source_pollers(network, streaming)
        self.failed_batches = self._failed_batches_queue()
        self.processor = self._stream_processor(network, streaming, oltp)
        self.raw_stream_job = self._raw_stream_job(network, streaming, lake)
        self._streaming_ingestion(streaming, warehouse)
        self._alarms(monitoring, streaming)
        self._outputs(lake)

    def _admit_event_source_pollers(self, network: NetworkStack, streaming: StreamingStack) -> None:
        """An MSK event source mapping polls from the cluster's own subnets with the cluster's
        security group: that group must reach the brokers (itself) and, over HTTPS, the
        Lambda, STS and SQS endpoints. The rules are created in the Streaming stack."""
        cluster_group = streaming.security_group
        cluster_group.connections.allow_internally(
            ec2.Port.tcp(MSK_IAM_PORT), "MSK event source pollers to the brokers"
        )
        cluster_group.add_egress_rule(
            network.endpoints_security_group,
            ec2.Port.tcp(HTTPS_PORT),
            "MSK event source pollers to the VPC endpoints",
        )
        network.admit_to_endpoints(cluster_group)

    def _failed_batches_queue(self) -> sqs.Queue:
        return sqs.Queue(
            self,
            "FailedBatches",
            queue_name=f"{self.prefix}-stream-processor-failed-batches",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(self.config.realtime.failed_batch_retention_days),
        )

    def _stream_processor(
        self, network: NetworkStack, streaming: StreamingStack, oltp: OltpStack
    ) -> lambda_.Function:
        realtime = self.config.realtime
        security_group = ec2.SecurityGroup(
            self, "StreamProcessorSg", vpc=network.vpc, description="stream_processor Lambda"
        )
        streaming.admit_clients(security_group)
        network.admit_to_endpoints(security_group)
        oltp.admit_clients(security_group)
        function = python_function(
            self,
            "StreamProcessor",
            source=STREAM_PROCESSOR_SOURCE,
            handler="lambdas.stream_processor.handler.handler",
            description="Real-time tables in PostgreSQL from the events topic (MSK trigger)",
            timeout=Duration.seconds(realtime.processor_timeout_seconds),
            memory_size=realtime.processor_memory_mb,
            vpc=network.vpc,
            vpc_subnets=network.private_subnets,
            security_groups=[security_group],
            environment={
                "DATABASE_SECRET_ARN": oltp.secret.secret_arn,
                "CART_ABANDONMENT_MINUTES": str(realtime.cart_abandonment_minutes),
                "DEDUPE_WINDOW_HOURS": str(
                    self.config.streaming.topic(EVENTS_TOPIC).retention_hours
                ),
                "DEAD_LETTER_TOPIC": DEAD_LETTER_TOPIC,
                "KAFKA_BOOTSTRAP_SERVERS": streaming.bootstrap_brokers,
                "KAFKA_AUTH": "iam",
            },
        )
        # Read the database secret; its key only decrypts through Secrets Manager. Granted on
        # the role: a grant through the key policy would make the Oltp stack depend on this one.
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["secretsmanager:GetSecretValue"], resources=[oltp.secret.secret_arn]
            )
        )
        if oltp.secret.encryption_key is not None:
            function.add_to_role_policy(
                decrypt_through_secrets_manager(oltp.secret.encryption_key.key_arn)
            )
        streaming.grant_consume(function, EVENTS_TOPIC, PROCESSOR_CONSUMER_GROUP)
        streaming.grant_produce(function, [DEAD_LETTER_TOPIC])
        # The event source adds what the mapping itself calls with the function's role (the
        # AWSLambdaMSKExecutionRole managed policy: cluster description, pollers' network).
        function.add_event_source(
            event_sources.ManagedKafkaEventSource(
                cluster_arn=streaming.cluster_arn,
                topic=EVENTS_TOPIC,
                consumer_group_id=PROCESSOR_CONSUMER_GROUP,
                starting_position=lambda_.StartingPosition.TRIM_HORIZON,
                batch_size=realtime.batch_size,
                max_batching_window=Duration.seconds(realtime.batching_window_seconds),
                retry_attempts=realtime.processor_retry_attempts,
                on_failure=event_sources.SqsDlq(self.failed_batches),
            )
        )
        return function

    def _raw_stream_job(
        self, network: NetworkStack, streaming: StreamingStack, lake: LakeStack
    ) -> glue.CfnJob:
        realtime = self.config.realtime
        connection = self._kafka_connection(network, streaming)
        encryption = glue_encryption(
            self,
            self.config,
            key_id="GlueKey",
            key_purpose="Glue job logs and bookmarks",
            configuration_id="RawStreamSecurity",
            configuration_name=f"{self.prefix}-raw-stream",
            lake_key=lake.key,
        )
        assets = glue_job_assets(self, "RawStream", RAW_STREAM_SCRIPT, RAW_STREAM_SOURCE)
        role = self._raw_stream_role(streaming, lake, encryption, assets)
        raw_bucket, artifacts_bucket = lake.bucket_name("raw"), lake.bucket_name("artifacts")
        job = glue.CfnJob(
            self,
            "RawStreamJob",
            name=f"{self.prefix}-stream-events-to-raw",
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
        job.node.add_dependency(connection)
        # A streaming job runs until it fails; this schedule starts it after a deploy and
        # restarts it within 15 minutes of a failure (a start while it runs is refused).
        glue.CfnTrigger(
            self,
            "RawStreamKeepRunning",
            name=f"{self.prefix}-stream-events-to-raw-keep-running",
            description="Starts the raw-stream job when it is not running",
            type="SCHEDULED",
            schedule="cron(0/15 * * * ? *)",
            start_on_creation=True,
            actions=[glue.CfnTrigger.ActionProperty(job_name=job.ref)],
        )
        return job

    @property
    def connection_name(self) -> str:
        return f"{self.prefix}-msk"

    def _kafka_connection(
        self, network: NetworkStack, streaming: StreamingStack
    ) -> glue.CfnConnection:
        """The Glue connection that places the job's workers in a private subnet, with a group
        that MSK and the endpoints admit."""
        security_group, placement = glue_workers_placement(
            self, "RawStreamJobSg", "raw-stream Glue job", network
        )
        streaming.admit_clients(security_group)
        return glue.CfnConnection(
            self,
            "KafkaConnection",
            catalog_id=self.account,
            connection_input=glue.CfnConnection.ConnectionInputProperty(
                name=self.connection_name,
                description="MSK over IAM auth, from the platform's private subnets",
                connection_type="KAFKA",
                connection_properties={
                    "KAFKA_BOOTSTRAP_SERVERS": streaming.bootstrap_brokers,
                    "KAFKA_SSL_ENABLED": "true",
                    "KAFKA_SASL_MECHANISM": "AWS_MSK_IAM",
                },
                physical_connection_requirements=placement,
            ),
        )

    def _raw_stream_role(
        self,
        streaming: StreamingStack,
        lake: LakeStack,
        encryption: GlueEncryption,
        assets: GlueJobAssets,
    ) -> iam.Role:
        role = iam.Role(
            self,
            "RawStreamJobRole",
            assumed_by=iam.ServicePrincipal("glue.amazonaws.com"),
            description="Glue job stream_events_to_raw: reads the events topic, writes raw",
        )
        assets.grant_read(role)
        streaming.grant_consume(role, EVENTS_TOPIC, f"{RAW_STREAM_GROUP_PREFIX}*")
        self._grant_raw_stream_storage(role, lake)
        statements = [
            *encryption.role_statements(),
            iam.PolicyStatement(
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringEquals": {"cloudwatch:namespace": "Glue"}},
            ),
            *glue_connection_statements(self.connection_name),
        ]
        for statement in statements:
            role.add_to_policy(statement)
        return role

    def _grant_raw_stream_storage(self, role: iam.Role, lake: LakeStack) -> None:
        """Write the job's two raw-zone tables, and its checkpoints and temporary files in the
        artifacts bucket; nothing else in either bucket (both use the lake key). `prefix*`
        rather than `prefix/*`: the S3 file system also reads and writes the key beside each
        folder (the folder's own name, and its `_$folder$` marker)."""
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

    def _streaming_ingestion(self, streaming: StreamingStack, warehouse: WarehouseStack) -> None:
        """The external schema over MSK and the events view in Redshift, applied on deploy."""
        function = python_function(
            self,
            "RedshiftSql",
            source=REDSHIFT_SQL_SOURCE,
            handler="lambdas.redshift_sql.handler.handler",
            description="Applies contracts/warehouse/streaming to Redshift (custom resource)",
            # Each statement may take redshift_statement_timeout_seconds; leave a margin.
            timeout=Duration.minutes(15),
            memory_size=256,
        )
        warehouse.grant_data_api(function, "redshift-data:ExecuteStatement")
        target = (
            {"WorkgroupName": warehouse.name}
            if self.config.warehouse.mode == "serverless"
            else {"ClusterIdentifier": warehouse.name}
        )
        CustomResource(
            self,
            "StreamingIngestion",
            service_token=function.function_arn,
            resource_type="Custom::RedshiftStreamingIngestion",
            properties={
                **target,
                "Database": self.config.warehouse.database_name,
                "SecretArn": warehouse.admin_secret_arn,
                "Values": {
                    "StreamingRoleArn": warehouse.streaming_role.role_arn,
                    "ClusterArn": streaming.cluster_arn,
                    "EventsTopic": EVENTS_TOPIC,
                },
                "StatementTimeoutSeconds": str(
                    self.config.realtime.redshift_statement_timeout_seconds
                ),
                "ScriptsChecksum": scripts_checksum(),
            },
        )

    def _alarms(self, monitoring: MonitoringStack, streaming: StreamingStack) -> None:
        realtime = self.config.realtime

        def consumer_lag(name: str) -> cw.Metric:
            return cw.Metric(
                namespace="AWS/Kafka",
                metric_name=name,
                dimensions_map={
                    "Cluster Name": streaming.cluster_name,
                    "Consumer Group": PROCESSOR_CONSUMER_GROUP,
                    "Topic": EVENTS_TOPIC,
                },
                statistic="Maximum",
                period=_FIVE_MINUTES,
            )

        offset_lag, time_lag = consumer_lag("MaxOffsetLag"), consumer_lag("EstimatedMaxTimeLag")
        errors = self.processor.metric_errors(period=_FIVE_MINUTES, statistic="Sum")
        throttles = self.processor.metric_throttles(period=_FIVE_MINUTES, statistic="Sum")
        parked = self.failed_batches.metric_approximate_number_of_messages_visible(
            period=_FIVE_MINUTES, statistic="Maximum"
        )
        section = monitoring.section("Real-time processing")
        section.add_alarms(
            AlarmSpec(
                "ProcessorOffsetLag",
                offset_lag,
                realtime.max_offset_lag,
                _GT,
                f"Stream processor over {realtime.max_offset_lag} records behind",
            ),
            AlarmSpec(
                "ProcessorTimeLag",
                time_lag,
                realtime.max_time_lag_seconds,
                _GT,
                f"Stream processor over {realtime.max_time_lag_seconds} s behind",
            ),
            AlarmSpec(
                "ProcessorErrors",
                errors,
                0,
                _GT,
                "Stream processor batches failing (they are retried, then parked)",
                evaluation_periods=1,
            ),
            AlarmSpec(
                "ProcessorThrottles",
                throttles,
                0,
                _GT,
                "Stream processor throttled (concurrency limit)",
                evaluation_periods=1,
            ),
            AlarmSpec(
                "FailedBatchesParked",
                parked,
                0,
                _GT,
                "Failed stream batches parked on the SQS queue (replay from their offsets)",
                evaluation_periods=1,
            ),
        )
        section.add_graphs(
            {
                "Consumer lag (records)": [offset_lag],
                "Consumer lag (s)": [time_lag],
                "Processor duration (ms)": [
                    self.processor.metric_duration(period=_FIVE_MINUTES, statistic="p99")
                ],
            }
        )

    def _outputs(self, lake: LakeStack) -> None:
        CfnOutput(
            self,
            "StreamProcessorFunctionName",
            value=self.processor.function_name,
            description="Stream processor Lambda (MSK trigger); its logs show each batch summary",
        )
        CfnOutput(
            self,
            "FailedBatchesQueueUrl",
            value=self.failed_batches.queue_url,
            description="SQS queue of stream batches that failed after retries (topic offsets)",
        )
        CfnOutput(
            self,
            "RawStreamJobName",
            value=self.raw_stream_job.ref,
            description="Glue streaming job landing the events topic in the raw zone",
        )
        CfnOutput(
            self,
            "RawStreamEventsUri",
            value=f"s3://{lake.bucket_name('raw')}/{RAW_STREAM_PREFIXES[0]}/",
            description="Raw events from the topic: Parquet by event_date and event_hour",
        )
        CfnOutput(
            self,
            "RawStreamQuarantineUri",
            value=f"s3://{lake.bucket_name('raw')}/{RAW_STREAM_PREFIXES[1]}/",
            description="Rejected topic records with reason and detail, by received date/hour",
        )
        CfnOutput(
            self,
            "StreamingViewName",
            value=STREAMING_VIEW,
            description="Redshift materialized view over the events topic (auto refresh)",
        )
