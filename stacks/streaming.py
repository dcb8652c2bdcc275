"""Streaming: MSK (serverless by default, provisioned as an option) with IAM auth, TLS and
encryption at rest; the event topics kept in line with config by a custom resource; the
bootstrap brokers read back through the Kafka API."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from aws_cdk import Aws, CfnOutput, CustomResource, Duration
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_msk as msk
from constructs import Construct

from stacks.constructs.api_lookup import api_lookup
from stacks.constructs.keys import data_key
from stacks.constructs.python_lambda import LambdaSource, python_function
from stacks.network import MSK_IAM_PORT, NetworkStack
from stacks.platform_stack import PlatformStack
from stacks.retention import data_removal_policy

KAFKA_TOPICS_SOURCE = LambdaSource(
    paths=(
        "lambdas/kafka_topics",
        "lambdas/__init__.py",
        "lambdas/shared/__init__.py",
        "lambdas/shared/custom_resource.py",
    ),
    requirements="lambdas/kafka_topics/requirements.txt",
)


class StreamingStack(PlatformStack):
    def __init__(
        self, scope: Construct, construct_id: str, *, network: NetworkStack, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        config = self.config
        self.cluster_name = self.prefix
        subnet_ids = network.vpc.select_subnets(
            subnet_type=network.private_subnets.subnet_type
        ).subnet_ids
        self.security_group = ec2.SecurityGroup(
            self, "MskSg", vpc=network.vpc, description="MSK brokers", allow_all_outbound=False
        )
        admin_group = ec2.SecurityGroup(
            self, "KafkaAdminSg", vpc=network.vpc, description="kafka_topics Lambda"
        )
        self.admit_clients(admin_group)
        network.admit_to_endpoints(admin_group)
        if config.streaming.mode == "serverless":
            # Serverless always encrypts at rest (service-managed key) and speaks TLS only.
            cluster: msk.CfnServerlessCluster | msk.CfnCluster = msk.CfnServerlessCluster(
                self,
                "Cluster",
                cluster_name=self.cluster_name,
                client_authentication=msk.CfnServerlessCluster.ClientAuthenticationProperty(
                    sasl=msk.CfnServerlessCluster.SaslProperty(
                        iam=msk.CfnServerlessCluster.IamProperty(enabled=True)
                    )
                ),
                vpc_configs=[
                    msk.CfnServerlessCluster.VpcConfigProperty(
                        subnet_ids=subnet_ids,
                        security_groups=[self.security_group.security_group_id],
                    )
                ],
            )
        else:
            cluster = self._provisioned_cluster(subnet_ids, self.security_group.security_group_id)
        cluster.apply_removal_policy(data_removal_policy(config))
        self.cluster_arn: str = cluster.attr_arn
        self.bootstrap_brokers = self._bootstrap_brokers()
        self.topics_function = self._topics_function(network, admin_group)
        CustomResource(
            self,
            "Topics",
            service_token=self.topics_function.function_arn,
            resource_type="Custom::KafkaTopics",
            properties={
                "ClusterName": self.cluster_name,
                "BootstrapServers": self.bootstrap_brokers,
                "Topics": [
                    {
                        "Name": topic.name,
                        "Partitions": str(topic.partitions),
                        "RetentionHours": str(topic.retention_hours),
                    }
                    for topic in config.streaming.topics
                ],
                "DeleteTopicsOnDelete": json.dumps(config.destroy_data),
                # MSK Serverless replicates every partition three times; a provisioned
                # cluster cannot hold more replicas than brokers.
                "ReplicationFactor": str(
                    3
                    if config.streaming.mode == "serverless"
                    else min(3, config.streaming.broker_count)
                ),
            },
        )
        self._outputs()

    def _provisioned_cluster(self, subnet_ids: list[str], security_group_id: str) -> msk.CfnCluster:
        streaming = self.config.streaming
        key = data_key(self, "DataKey", self.config, "MSK broker volumes")
        broker_logs = logs.LogGroup(
            self,
            "BrokerLogs",
            retention=logs.RetentionDays.ONE_MONTH,
            removal_policy=data_removal_policy(self.config),
        )
        return msk.CfnCluster(
            self,
            "Cluster",
            cluster_name=self.cluster_name,
            kafka_version=streaming.kafka_version,
            number_of_broker_nodes=streaming.broker_count,
            broker_node_group_info=msk.CfnCluster.BrokerNodeGroupInfoProperty(
                instance_type=streaming.broker_instance_type,
                client_subnets=subnet_ids,
                security_groups=[security_group_id],
                storage_info=msk.CfnCluster.StorageInfoProperty(
                    ebs_storage_info=msk.CfnCluster.EBSStorageInfoProperty(
                        volume_size=streaming.broker_volume_gib
                    )
                ),
            ),
            client_authentication=msk.CfnCluster.ClientAuthenticationProperty(
                sasl=msk.CfnCluster.SaslProperty(iam=msk.CfnCluster.IamProperty(enabled=True)),
                unauthenticated=msk.CfnCluster.UnauthenticatedProperty(enabled=False),
            ),
            encryption_info=msk.CfnCluster.EncryptionInfoProperty(
                encryption_at_rest=msk.CfnCluster.EncryptionAtRestProperty(
                    data_volume_kms_key_id=key.key_arn
                ),
                encryption_in_transit=msk.CfnCluster.EncryptionInTransitProperty(
                    client_broker="TLS", in_cluster=True
                ),
            ),
            enhanced_monitoring="PER_BROKER",
            logging_info=msk.CfnCluster.LoggingInfoProperty(
                broker_logs=msk.CfnCluster.BrokerLogsProperty(
                    cloud_watch_logs=msk.CfnCluster.CloudWatchLogsProperty(
                        enabled=True, log_group=broker_logs.log_group_name
                    )
                )
            ),
        )

    def _bootstrap_brokers(self) -> str:
        """The IAM (port 9098) bootstrap string; CloudFormation does not expose it for MSK."""
        return api_lookup(
            self,
            "BootstrapBrokersLookup",
            service="Kafka",
            action="getBootstrapBrokers",
            parameters={"ClusterArn": self.cluster_arn},
            physical_id=self.cluster_arn,
            output_path="BootstrapBrokerStringSaslIam",
            iam_action="kafka:GetBootstrapBrokers",
            resource_arn=self.cluster_arn,
        )

    def admit_clients(self, client: ec2.ISecurityGroup) -> None:
        """Let a client group reach the brokers on the IAM port; the rule lives in its stack."""
        self.security_group.add_ingress_rule(
            client, ec2.Port.tcp(MSK_IAM_PORT), f"from {client.node.id}", remote_rule=True
        )

    def _topics_function(
        self, network: NetworkStack, security_group: ec2.SecurityGroup
    ) -> lambda_.Function:
        function = python_function(
            self,
            "KafkaTopics",
            source=KAFKA_TOPICS_SOURCE,
            handler="lambdas.kafka_topics.handler.handler",
            description="Creates and updates the platform's Kafka topics (custom resource)",
            timeout=Duration.minutes(5),
            memory_size=256,
            vpc=network.vpc,
            vpc_subnets=network.private_subnets,
            security_groups=[security_group],
        )
        topic_actions = [
            "kafka-cluster:CreateTopic",
            "kafka-cluster:DescribeTopic",
            "kafka-cluster:AlterTopic",
            "kafka-cluster:DescribeTopicDynamicConfiguration",
            "kafka-cluster:AlterTopicDynamicConfiguration",
        ]
        if self.config.destroy_data:
            topic_actions.append("kafka-cluster:DeleteTopic")
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["kafka-cluster:Connect", "kafka-cluster:DescribeCluster"],
                resources=[self.cluster_arn],
            )
        )
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=topic_actions,
                resources=[self.topic_arn(topic.name) for topic in self.config.streaming.topics],
            )
        )
        return function

    def grant_produce(self, grantee: iam.IGrantable, topic_names: Sequence[str]) -> None:
        """Idempotent writes (the platform's producers use acks=all with idempotence) to
        exactly these topics over IAM auth."""
        _grant(
            grantee,
            {
                ("kafka-cluster:Connect", "kafka-cluster:WriteDataIdempotently"): [
                    self.cluster_arn
                ],
                ("kafka-cluster:DescribeTopic", "kafka-cluster:WriteData"): [
                    self.topic_arn(name) for name in topic_names
                ],
            },
        )

    def grant_consume(self, grantee: iam.IGrantable, topic_name: str, group_pattern: str) -> None:
        """Reading one topic as the consumer groups matching `group_pattern` over IAM auth."""
        _grant(
            grantee,
            {
                ("kafka-cluster:Connect", "kafka-cluster:DescribeCluster"): [self.cluster_arn],
                ("kafka-cluster:DescribeTopic", "kafka-cluster:ReadData"): [
                    self.topic_arn(topic_name)
                ],
                ("kafka-cluster:DescribeGroup", "kafka-cluster:AlterGroup"): [
                    self.consumer_group_arn(group_pattern)
                ],
            },
        )

    def topic_arn(self, topic_name: str) -> str:
        """IAM resource ARN of one topic of this cluster."""
        return self._kafka_arn("topic", topic_name)

    def consumer_group_arn(self, group_pattern: str) -> str:
        """IAM resource ARN of this cluster's consumer groups matching `group_pattern`."""
        return self._kafka_arn("group", group_pattern)

    def _kafka_arn(self, resource: str, name: str) -> str:
        # MSK ARNs read <resource>/<cluster name>/<cluster uuid>/<name>. The uuid is left open:
        # the name is unique per account and region, and other stacks then need no token
        # from this one (CloudFormation cannot split a cross-stack output).
        return (
            f"arn:{Aws.PARTITION}:kafka:{Aws.REGION}:{Aws.ACCOUNT_ID}:"
            f"{resource}/{self.cluster_name}/*/{name}"
        )

    def _outputs(self) -> None:
        CfnOutput(
            self,
            "ClusterArn",
            value=self.cluster_arn,
            description=f"MSK cluster ARN ({self.config.streaming.mode})",
        )
        CfnOutput(
            self,
            "BootstrapBrokers",
            value=self.bootstrap_brokers,
            description="Kafka bootstrap servers for IAM auth over TLS (port 9098)",
        )
        for topic in self.config.streaming.topics:
            CfnOutput(
                self,
                "Topic" + "".join(part.title() for part in re.split(r"[._-]", topic.name)),
                value=topic.name,
                description=(
                    f"Kafka topic: {topic.partitions} partition(s), "
                    f"{topic.retention_hours} h retention"
                ),
            )


def _grant(grantee: iam.IGrantable, permissions: dict[tuple[str, ...], list[str]]) -> None:
    """Each group of actions on its resources, in the grantee's own policy."""
    for actions, resource_arns in permissions.items():
        iam.Grant.add_to_principal(
            grantee=grantee, actions=list(actions), resource_arns=resource_arns
        )
