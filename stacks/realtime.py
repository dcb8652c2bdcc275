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

from aws_cdk import Aws, CfnOutput, CustomResource, Duration, Stack
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_logs as logs
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
from stacks.constructs.python_lambda import LAMBDA_RUNTIME, LambdaSource, python_lambda_code
from stacks.lake import LakeStack
from stacks.monitoring import MonitoringStack
from stacks.network import HTTPS_PORT, MSK_IAM_PORT, POSTGRES_PORT, NetworkStack
from stacks.oltp import OltpStack
from stacks.retention import data_removal_policy
from stacks.streaming import StreamingStack
from stacks.warehouse import WarehouseStack

STREAM_PROCESSOR_SOURCE = LambdaSource(
    paths=(
        "lambdas/stream_processor",
        "lambdas/__init__.py",
        "lambdas/shared",
        "contracts/__init__.py",
        "contracts/events",
    ),
    requirements="lambdas/stream_processor/requirements.txt",
)
REDSHIFT_SQL_SOURCE = LambdaSource(
    paths=(
        "lambdas/redshift_sql",
        "lambdas/__init__.py",
        "lambdas/custom_resource.py",
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
_ENCRYPT_DECRYPT = ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"]
# Glue names a job's log groups at run time, all under /aws-glue/.
_GLUE_LOG_GROUPS = f"arn:{Aws.PARTITION}:logs:{Aws.REGION}:{Aws.ACCOUNT_ID}:log-group:/aws-glue/*"
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
        oltp.security_group.add_ingress_rule(
            security_group,
            ec2.Port.tcp(POSTGRES_PORT),
            "from StreamProcessorSg",
            remote_rule=True,
        )
        function = lambda_.Function(
            self,
            "StreamProcessorFunction",
            description="Real-time tables in PostgreSQL from the events topic (MSK trigger)",
            runtime=LAMBDA_RUNTIME,
            handler="lambdas.stream_processor.handler.handler",
            code=python_lambda_code(STREAM_PROCESSOR_SOURCE),
            timeout=Duration.seconds(realtime.processor_timeout_seconds),
            memory_size=realtime.processor_memory_mb,
            vpc=network.vpc,
            vpc_subnets=network.private_subnets,
            security_groups=[security_group],
            environment={
                "DATABASE_SECRET_ARN": oltp.secret.secret_arn,
                "CART_ABANDONMENT_MINUTES": str(realtime.cart_abandonment_minutes),
                "DEAD_LETTER_TOPIC": DEAD_LETTER_TOPIC,
                "KAFKA_BOOTSTRAP_SERVERS": streaming.bootstrap_brokers,
                "KAFKA_AUTH": "iam",
            },
            log_group=logs.LogGroup(
                self, "StreamProcessorLogs", retention=logs.RetentionDays.ONE_MONTH
            ),
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
                _decrypt_through_secrets_manager(oltp.secret.encryption_key.key_arn)
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
        key, security_configuration = self._glue_encryption(lake)
        assets = glue_job_assets(self, "RawStream", RAW_STREAM_SCRIPT, RAW_STREAM_SOURCE)
        role = self._raw_stream_role(streaming, lake, key, assets)
        raw_bucket, artifacts_bucket = lake.bucket_name("raw"), lake.bucket_name("artifacts")
        job = glue.CfnJob(
            self,
            "RawStreamJob",
            name=f"{self.prefix}-stream-events-to-raw",
            description="Events topic -> raw zone (Parquet by event date and hour) + quarantine",
            role=role.role_arn,
            command=glue.CfnJob.JobCommandProperty(
                name="gluestreaming",
                python_version="3",
                script_location=assets.script.s3_object_url,
            ),
            glue_version="5.0",
            worker_type=realtime.raw_stream_worker_type,
            number_of_workers=realtime.raw_stream_workers,
            connections=glue.CfnJob.ConnectionsListProperty(connections=[self.connection_name]),
            security_configuration=security_configuration.ref,
            execution_property=glue.CfnJob.ExecutionPropertyProperty(max_concurrent_runs=1),
            default_arguments={
                "--job-language": "python",
                "--extra-py-files": assets.packages.s3_object_url,
                "--additional-python-modules": assets.wheels.s3_object_url,
                "--enable-metrics": "true",
                "--enable-continuous-cloudwatch-log": "true",
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
        security_group = ec2.SecurityGroup(
            self, "RawStreamJobSg", vpc=network.vpc, description="raw-stream Glue job"
        )
        # Glue's workers talk to each other: Glue requires a self-referencing rule, all TCP.
        security_group.add_ingress_rule(security_group, ec2.Port.all_tcp(), "Glue workers")
        streaming.admit_clients(security_group)
        network.admit_to_endpoints(security_group)
        subnet = network.vpc.select_subnets(subnet_type=network.private_subnets.subnet_type)
        requirements = glue.CfnConnection.PhysicalConnectionRequirementsProperty(
            subnet_id=subnet.subnet_ids[0],
            availability_zone=subnet.availability_zones[0],
            security_group_id_list=[security_group.security_group_id],
        )
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
                physical_connection_requirements=requirements,
            ),
        )

    def _glue_encryption(self, lake: LakeStack) -> tuple[kms.Key, glue.CfnSecurityConfiguration]:
        """A key for the job's logs and bookmarks, and the security configuration that
        encrypts logs, bookmarks and S3 writes (the lake key)."""
        key = kms.Key(
            self,
            "GlueKey",
            description=f"Glue job logs and bookmarks ({self.config.env_name})",
            enable_key_rotation=True,
            removal_policy=data_removal_policy(self.config),
        )
        # CloudWatch Logs encrypts the job's log groups with this key.
        key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal(f"logs.{Aws.REGION}.amazonaws.com")],
                actions=[*_ENCRYPT_DECRYPT, "kms:DescribeKey"],
                resources=["*"],
                conditions={"ArnLike": {"kms:EncryptionContext:aws:logs:arn": _GLUE_LOG_GROUPS}},
            )
        )
        configuration = glue.CfnSecurityConfiguration
        security_configuration = configuration(
            self,
            "RawStreamSecurity",
            name=f"{self.prefix}-raw-stream",
            encryption_configuration=configuration.EncryptionConfigurationProperty(
                cloud_watch_encryption=configuration.CloudWatchEncryptionProperty(
                    cloud_watch_encryption_mode="SSE-KMS", kms_key_arn=key.key_arn
                ),
                job_bookmarks_encryption=configuration.JobBookmarksEncryptionProperty(
                    job_bookmarks_encryption_mode="CSE-KMS", kms_key_arn=key.key_arn
                ),
                s3_encryptions=[
                    configuration.S3EncryptionProperty(
                        s3_encryption_mode="SSE-KMS", kms_key_arn=lake.key.key_arn
                    )
                ],
            ),
        )
        return key, security_configuration

    def _raw_stream_role(
        self, streaming: StreamingStack, lake: LakeStack, key: kms.Key, assets: GlueJobAssets
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
            iam.PolicyStatement(
                actions=_ENCRYPT_DECRYPT, resources=[key.key_arn, lake.key.key_arn]
            ),
            iam.PolicyStatement(
                actions=[
                    "logs:CreateLogGroup",
                    "logs:CreateLogStream",
                    "logs:PutLogEvents",
                    "logs:AssociateKmsKey",
                ],
                resources=[_GLUE_LOG_GROUPS],
            ),
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
        function = lambda_.Function(
            self,
            "RedshiftSqlFunction",
            description="Applies contracts/warehouse/streaming to Redshift (custom resource)",
            runtime=LAMBDA_RUNTIME,
            handler="lambdas.redshift_sql.handler.handler",
            code=python_lambda_code(REDSHIFT_SQL_SOURCE),
            # Each statement may take redshift_statement_timeout_seconds; leave a margin.
            timeout=Duration.minutes(15),
            memory_size=256,
            log_group=logs.LogGroup(
                self, "RedshiftSqlLogs", retention=logs.RetentionDays.ONE_MONTH
            ),
        )
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["redshift-data:ExecuteStatement"],
                resources=[warehouse.data_api_resource_arn],
            )
        )
        # The Data API scopes these to the caller's own statements; they take no resource.
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["redshift-data:DescribeStatement", "redshift-data:CancelStatement"],
                resources=["*"],
            )
        )
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["secretsmanager:GetSecretValue"],
                resources=[warehouse.admin_secret_arn],
            )
        )
        function.add_to_role_policy(_decrypt_through_secrets_manager(warehouse.key.key_arn))
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


def _decrypt_through_secrets_manager(key_arn: str) -> iam.PolicyStatement:
    """Decrypting with the key only as Secrets Manager does to return a secret."""
    return iam.PolicyStatement(
        actions=["kms:Decrypt"],
        resources=[key_arn],
        conditions={
            "StringEquals": {"kms:ViaService": f"secretsmanager.{Aws.REGION}.amazonaws.com"}
        },
    )
