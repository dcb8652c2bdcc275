"""kafka_topics: keeps the MSK topics in line with config on every deploy (custom resource).

Create/Update create missing topics, grow partitions and set retention; Delete removes the
topics only when the stack was synthesized with destroy_data (topics hold events).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kafka.admin import (
    ConfigResource,
    ConfigResourceType,
    KafkaAdminClient,
    NewPartitions,
    NewTopic,
)

from lambdas.kafka_topics.topics import desired_topics, plan_changes
from lambdas.shared.custom_resource import Outcome, respond

_UNKNOWN_TOPIC = 3  # Kafka error code UNKNOWN_TOPIC_OR_PARTITION


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return respond(event, context, reconcile)


def reconcile(event: dict[str, Any]) -> Outcome:
    properties = event["ResourceProperties"]
    physical_id = f"kafka-topics:{properties['ClusterName']}"
    desired = desired_topics(properties)
    admin = _admin_client(properties["BootstrapServers"])
    try:
        existing = _partition_counts(admin, [spec.name for spec in desired])
        if event["RequestType"] == "Delete":
            if properties.get("DeleteTopicsOnDelete") == "true" and existing:
                admin.delete_topics(sorted(existing))
            return Outcome(event.get("PhysicalResourceId", physical_id))
        plan = plan_changes(desired, existing)
        if plan.create:
            admin.create_topics(
                [
                    NewTopic(
                        name=spec.name,
                        num_partitions=spec.partitions,
                        replication_factor=int(properties["ReplicationFactor"]),
                        topic_configs={"retention.ms": str(spec.retention_ms)},
                    )
                    for spec in plan.create
                ]
            )
        if plan.grow_partitions:
            admin.create_partitions(
                {name: NewPartitions(total) for name, total in plan.grow_partitions.items()}
            )
        if plan.set_retention_ms:
            _check_altered(admin.alter_configs(_retention_resources(plan.set_retention_ms)))
    finally:
        admin.close()
    return Outcome(
        physical_id,
        {
            "Created": ",".join(spec.name for spec in plan.create),
            "Topics": ",".join(spec.name for spec in desired),
        },
    )


def _admin_client(bootstrap_servers: str) -> KafkaAdminClient:
    return KafkaAdminClient(
        bootstrap_servers=bootstrap_servers.split(","),
        security_protocol="SASL_SSL",
        sasl_mechanism="AWS_MSK_IAM",
        client_id="kafka-topics-custom-resource",
        request_timeout_ms=30_000,
    )


def _partition_counts(admin: KafkaAdminClient, names: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for topic in admin.describe_topics(names):
        if topic["error_code"] == 0:
            counts[topic["topic"]] = len(topic["partitions"])
        elif topic["error_code"] != _UNKNOWN_TOPIC:
            raise RuntimeError(f"describing {topic['topic']} failed: error {topic['error_code']}")
    return counts


def _retention_resources(retention_ms: Mapping[str, int]) -> list[ConfigResource]:
    return [
        ConfigResource(ConfigResourceType.TOPIC, name, configs={"retention.ms": str(value)})
        for name, value in retention_ms.items()
    ]


def _check_altered(response: Any) -> None:
    """alter_configs reports per-topic errors in its response instead of raising them."""
    failed = [
        f"{name}: error {code} {message or ''}".strip()
        for code, message, _type, name in response.resources
        if code != 0
    ]
    if failed:
        raise RuntimeError("setting retention failed: " + "; ".join(failed))
