"""The stream processor: the Lambda that keeps the real-time tables in PostgreSQL from the
events topic, fed by an MSK event source mapping (batch size and window from config), and the
SQS queue that parks a batch still failing after its retries; plus its alarms.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_sqs as sqs

from contracts.events.topics import DEAD_LETTER_TOPIC, EVENTS_TOPIC, PROCESSOR_CONSUMER_GROUP
from stacks.constructs.alarms import AlarmsAndWidgets, AlarmSpec
from stacks.constructs.database import Database
from stacks.constructs.keys import decrypt_through_secrets_manager
from stacks.constructs.python_lambda import LambdaSource, python_function
from stacks.network import HTTPS_PORT, MSK_IAM_PORT, NetworkStack
from stacks.platform_stack import PlatformStack
from stacks.streaming import StreamingStack

STREAM_PROCESSOR_SOURCE = LambdaSource(
    paths=(
        "lambdas/stream_processor",
        "lambdas/__init__.py",
        "lambdas/shared",
        "contracts/__init__.py",
        "contracts/database.py",
        "contracts/events",
        "contracts/shopper_signals.py",
    ),
    requirements="lambdas/stream_processor/requirements.txt",
)
_FIVE_MINUTES = Duration.minutes(5)
_GT = cw.ComparisonOperator.GREATER_THAN_THRESHOLD


class StreamProcessor:
    """`function` (construct ids StreamProcessor*) and `failed_batches` (FailedBatches)."""

    def __init__(
        self,
        scope: PlatformStack,
        *,
        network: NetworkStack,
        streaming: StreamingStack,
        database: Database,
    ) -> None:
        realtime = self._realtime = scope.config.realtime
        _admit_event_source_pollers(network, streaming)
        self.failed_batches = sqs.Queue(
            scope,
            "FailedBatches",
            queue_name=f"{scope.prefix}-stream-processor-failed-batches",
            encryption=sqs.QueueEncryption.KMS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(realtime.failed_batch_retention_days),
        )
        security_group = ec2.SecurityGroup(
            scope, "StreamProcessorSg", vpc=network.vpc, description="stream_processor Lambda"
        )
        streaming.admit_clients(security_group)
        network.admit_to_endpoints(security_group)
        database.admit_clients(security_group)
        self.function = python_function(
            scope,
            "StreamProcessor",
            source=STREAM_PROCESSOR_SOURCE,
            handler="lambdas.stream_processor.handler.handler",
            description="Real-time tables in PostgreSQL from the events topic (MSK trigger)",
            timeout=Duration.seconds(realtime.processor_timeout_seconds),
            memory_size=realtime.processor_memory_mb,
            reserved_concurrency=realtime.processor_reserved_concurrency,
            vpc=network.vpc,
            vpc_subnets=network.private_subnets,
            security_groups=[security_group],
            environment={
                "DATABASE_SECRET_ARN": database.secret.secret_arn,
                "CART_ABANDONMENT_MINUTES": str(realtime.cart_abandonment_minutes),
                "DEDUPE_WINDOW_HOURS": str(
                    scope.config.streaming.topic(EVENTS_TOPIC).retention_hours
                ),
                "DEAD_LETTER_TOPIC": DEAD_LETTER_TOPIC,
                "KAFKA_BOOTSTRAP_SERVERS": streaming.bootstrap_brokers,
                "KAFKA_AUTH": "iam",
            },
        )
        # Read the database secret; its key only decrypts through Secrets Manager. Granted on
        # the role: a grant through the key policy would make the Oltp stack depend on this one.
        self.function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["secretsmanager:GetSecretValue"], resources=[database.secret.secret_arn]
            )
        )
        if database.secret.encryption_key is not None:
            self.function.add_to_role_policy(
                decrypt_through_secrets_manager(database.secret.encryption_key.key_arn)
            )
        streaming.grant_consume(self.function, EVENTS_TOPIC, PROCESSOR_CONSUMER_GROUP)
        streaming.grant_produce(self.function, [DEAD_LETTER_TOPIC])
        # The event source adds what the mapping itself calls with the function's role (the
        # AWSLambdaMSKExecutionRole managed policy: cluster description, pollers' network).
        self.function.add_event_source(
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

    def add_alarms(self, section: AlarmsAndWidgets, cluster_name: str) -> None:
        """Consumer lag of the processor's group, errors and throttles, parked batches."""
        realtime = self._realtime

        def consumer_lag(name: str) -> cw.Metric:
            return cw.Metric(
                namespace="AWS/Kafka",
                metric_name=name,
                dimensions_map={
                    "Cluster Name": cluster_name,
                    "Consumer Group": PROCESSOR_CONSUMER_GROUP,
                    "Topic": EVENTS_TOPIC,
                },
                statistic="Maximum",
                period=_FIVE_MINUTES,
            )

        offset_lag, time_lag = consumer_lag("MaxOffsetLag"), consumer_lag("EstimatedMaxTimeLag")
        errors = self.function.metric_errors(period=_FIVE_MINUTES, statistic="Sum")
        throttles = self.function.metric_throttles(period=_FIVE_MINUTES, statistic="Sum")
        parked = self.failed_batches.metric_approximate_number_of_messages_visible(
            period=_FIVE_MINUTES, statistic="Maximum"
        )
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
                    self.function.metric_duration(period=_FIVE_MINUTES, statistic="p99")
                ],
            }
        )


def _admit_event_source_pollers(network: NetworkStack, streaming: StreamingStack) -> None:
    """An MSK event source mapping polls from the cluster's own subnets with the cluster's
    security group: that group must reach the brokers (itself) and, over HTTPS, the Lambda,
    STS and SQS endpoints. The rules are created in the Streaming stack."""
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
