"""Monitoring: the alarm topic, the platform dashboard, and alarms for the core services (RDS,
MSK, Redshift). Later stacks add theirs through `section()`, which keeps one dashboard and one
alarm route for the whole platform."""

from __future__ import annotations

from typing import Any

from aws_cdk import Aws, CfnOutput, Duration
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from contracts.events.topics import DEAD_LETTER_TOPIC, EVENTS_TOPIC
from stacks.constructs.alarms import AlarmsAndWidgets, AlarmSpec
from stacks.oltp import OltpStack
from stacks.platform_stack import PlatformStack
from stacks.streaming import StreamingStack
from stacks.warehouse import WarehouseStack

_GIB = 1024**3
_FIVE_MINUTES = Duration.minutes(5)
_GT = cw.ComparisonOperator.GREATER_THAN_THRESHOLD
_LT = cw.ComparisonOperator.LESS_THAN_THRESHOLD


class MonitoringStack(PlatformStack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        oltp: OltpStack,
        streaming: StreamingStack,
        warehouse: WarehouseStack,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        config = self.config
        key = kms.Key(
            self,
            "AlarmTopicKey",
            description=f"Alarm topic ({config.env_name})",
            enable_key_rotation=True,
        )
        # CloudWatch (alarms) and EventBridge (service events) publish into the encrypted topic.
        for service in ("cloudwatch.amazonaws.com", "events.amazonaws.com"):
            key.grant(iam.ServicePrincipal(service), "kms:Decrypt", "kms:GenerateDataKey")
        self.alarm_topic = sns.Topic(
            self,
            "AlarmTopic",
            display_name=f"e-commerce platform alarms ({config.env_name})",
            master_key=key,
            enforce_ssl=True,
        )
        if config.monitoring.alarm_email:
            self.alarm_topic.add_subscription(
                subscriptions.EmailSubscription(config.monitoring.alarm_email)
            )
        self.dashboard_name = self.prefix
        self.dashboard = cw.Dashboard(
            self,
            "Dashboard",
            dashboard_name=self.dashboard_name,
            default_interval=Duration.hours(6),
        )
        self._oltp(oltp)
        self._streaming(streaming)
        self._warehouse(warehouse)
        CfnOutput(
            self,
            "DashboardUrl",
            value=(
                f"https://{Aws.REGION}.console.aws.amazon.com/cloudwatch/home"
                f"?region={Aws.REGION}#dashboards:name={self.dashboard_name}"
            ),
            description="CloudWatch dashboard of the platform",
        )
        CfnOutput(
            self,
            "AlarmTopicArn",
            value=self.alarm_topic.topic_arn,
            description="SNS topic every platform alarm notifies; subscribe on-call here",
        )

    def section(self, title: str) -> AlarmsAndWidgets:
        """A titled block on the dashboard whose alarms notify the platform alarm topic."""
        construct_id = "".join(char for char in title.title() if char.isalnum())
        return AlarmsAndWidgets(
            self, construct_id, title=title, alarm_topic=self.alarm_topic, dashboard=self.dashboard
        )

    def notify_on_events(
        self, construct_id: str, description: str, pattern: events.EventPattern, message: str
    ) -> events.Rule:
        """Send a text message to the alarm topic for each event matching `pattern`; the
        message may quote event fields (events.EventField)."""
        rule = events.Rule(self, construct_id, description=description, event_pattern=pattern)
        rule.add_target(
            targets.SnsTopic(self.alarm_topic, message=events.RuleTargetInput.from_text(message))
        )
        return rule

    def _oltp(self, oltp: OltpStack) -> None:
        thresholds = self.config.monitoring
        database = oltp.database.instance
        section = self.section("OLTP database")
        cpu = database.metric_cpu_utilization(period=_FIVE_MINUTES)
        connections = database.metric_database_connections(period=_FIVE_MINUTES)
        free_storage = database.metric_free_storage_space(period=_FIVE_MINUTES)
        section.add_alarms(
            AlarmSpec(
                "RdsCpu",
                cpu,
                thresholds.rds_cpu_percent,
                _GT,
                f"RDS CPU above {thresholds.rds_cpu_percent:g}% for 15 min",
            ),
            AlarmSpec(
                "RdsFreeStorage",
                free_storage,
                thresholds.rds_free_storage_gib * _GIB,
                _LT,
                f"RDS free storage below {thresholds.rds_free_storage_gib:g} GiB",
            ),
            AlarmSpec(
                "RdsConnections",
                connections,
                thresholds.rds_max_connections,
                _GT,
                f"RDS connections above {thresholds.rds_max_connections}",
            ),
        )
        section.add_graphs({"CPU %": [cpu], "Connections": [connections]})

    def _streaming(self, streaming: StreamingStack) -> None:
        section = self.section("Streaming (MSK)")
        cluster = {"Cluster Name": streaming.cluster_name}

        def kafka(name: str, statistic: str, **dimensions: str) -> cw.Metric:
            return cw.Metric(
                namespace="AWS/Kafka",
                metric_name=name,
                dimensions_map={**cluster, **dimensions},
                statistic=statistic,
                period=_FIVE_MINUTES,
            )

        if self.config.streaming.mode == "serverless":
            section.add_alarms(
                AlarmSpec(
                    "DeadLetterEvents",
                    kafka("MessagesInPerSec", "Sum", Topic=DEAD_LETTER_TOPIC),
                    0,
                    _GT,
                    f"Events rejected to {DEAD_LETTER_TOPIC}",
                    evaluation_periods=1,
                )
            )
            section.add_graphs(
                {
                    f"{EVENTS_TOPIC} bytes in/s": [
                        kafka("BytesInPerSec", "Average", Topic=EVENTS_TOPIC)
                    ]
                }
            )
            return
        brokers = range(1, self.config.streaming.broker_count + 1)
        disk_used = cw.MathExpression(
            expression=f"MAX([{','.join(f'b{broker}' for broker in brokers)}])",
            using_metrics={
                f"b{broker}": kafka(
                    "KafkaDataLogsDiskUsed", "Maximum", **{"Broker ID": str(broker)}
                )
                for broker in brokers
            },
            label="Max broker disk used %",
            period=_FIVE_MINUTES,
        )
        section.add_alarms(
            AlarmSpec(
                "OfflinePartitions",
                kafka("OfflinePartitionsCount", "Maximum"),
                0,
                _GT,
                "MSK partitions offline",
                evaluation_periods=1,
            ),
            AlarmSpec("BrokerDiskUsed", disk_used, 80, _GT, "MSK broker disk above 80%"),
        )
        section.add_graphs(
            {
                "Bytes in/s per broker": [
                    kafka("BytesInPerSec", "Average", **{"Broker ID": str(broker)})
                    for broker in brokers
                ]
            }
        )

    def _warehouse(self, warehouse: WarehouseStack) -> None:
        section = self.section("Warehouse (Redshift)")
        if self.config.warehouse.mode == "serverless":
            workgroup = {"Workgroup": warehouse.name}
            compute_seconds = cw.Metric(
                namespace="AWS/Redshift-Serverless",
                metric_name="ComputeSeconds",
                dimensions_map=workgroup,
                statistic="Sum",
                period=Duration.hours(1),
            )
            # Base capacity for a whole hour is already a busy warehouse: flag the cost early.
            rpu_seconds_per_hour = self.config.warehouse.base_rpu * 3600
            section.add_alarms(
                AlarmSpec(
                    "ComputeSeconds",
                    compute_seconds,
                    rpu_seconds_per_hour,
                    _GT,
                    f"Redshift above {rpu_seconds_per_hour} RPU-seconds in an hour",
                    evaluation_periods=2,
                )
            )
            section.add_graphs(
                {
                    "RPU in use": [
                        cw.Metric(
                            namespace="AWS/Redshift-Serverless",
                            metric_name="ComputeCapacity",
                            dimensions_map=workgroup,
                            statistic="Average",
                            period=_FIVE_MINUTES,
                        )
                    ]
                }
            )
            return
        cluster = {"ClusterIdentifier": warehouse.name}

        def redshift(name: str, statistic: str) -> cw.Metric:
            return cw.Metric(
                namespace="AWS/Redshift",
                metric_name=name,
                dimensions_map=cluster,
                statistic=statistic,
                period=_FIVE_MINUTES,
            )

        section.add_alarms(
            AlarmSpec(
                "ClusterUnhealthy",
                redshift("HealthStatus", "Minimum"),
                1,
                _LT,
                "Redshift cluster unhealthy",
                treat_missing_data=cw.TreatMissingData.BREACHING,
            ),
            AlarmSpec(
                "DiskSpaceUsed",
                redshift("PercentageDiskSpaceUsed", "Maximum"),
                80,
                _GT,
                "Redshift disk above 80%",
            ),
        )
        section.add_graphs({"CPU %": [redshift("CPUUtilization", "Average")]})
