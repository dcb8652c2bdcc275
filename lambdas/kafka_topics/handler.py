"""kafka_topics: keeps the MSK topics in line with config on every deploy (custom resource).

Create/Update create missing topics, grow partitions and set retention; Delete removes the
topics only when the stack was synthesized with destroy_data (topics hold events).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from kafka.admin import (
    ConfigResource,
    ConfigResourceType,
    KafkaAdminClient,
    NewPartitions,
    NewTopic,
)
from kafka.errors import TopicAlreadyExistsError

from lambdas.kafka_topics.topics import TopicPlan, TopicSpec, desired_topics, plan_changes
from lambdas.shared.custom_resource import Outcome, respond

_UNKNOWN_TOPIC = 3  # Kafka error code UNKNOWN_TOPIC_OR_PARTITION
_PLAN_ATTEMPTS = 3
_METADATA_WAIT_S = 1.0


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
        plan = _apply(admin, desired, int(properties["ReplicationFactor"]), existing)
    finally:
        admin.close()
    return Outcome(
        physical_id,
        {
            "Created": ",".join(spec.name for spec in plan.create),
            "Topics": ",".join(spec.name for spec in desired),
        },
    )


def _apply(
    admin: KafkaAdminClient, desired: list[TopicSpec], replication: int, existing: dict[str, int]
) -> TopicPlan:
    """Create, grow and set retention as planned. A topic created moments earlier may not be in
    the metadata a broker answers with yet: when creating reports that a topic exists, the plan
    is made again from a fresh read (a few times, a second apart) instead of failing the deploy."""
    for attempt in range(1, _PLAN_ATTEMPTS + 1):
        plan = plan_changes(desired, existing)
        try:
            if plan.create:
                admin.create_topics([_new_topic(spec, replication) for spec in plan.create])
            break
        except TopicAlreadyExistsError:
            if attempt == _PLAN_ATTEMPTS:
                raise
            time.sleep(_METADATA_WAIT_S)
            existing = _partition_counts(admin, [spec.name for spec in desired])
    if plan.grow_partitions:
        admin.create_partitions(
            {name: NewPartitions(total) for name, total in plan.grow_partitions.items()}
        )
    if plan.set_retention_ms:
        _check_altered(admin.alter_configs(_retention_resources(plan.set_retention_ms)))
    return plan


def _new_topic(spec: TopicSpec, replication: int) -> NewTopic:
    return NewTopic(
        name=spec.name,
        num_partitions=spec.partitions,
        replication_factor=replication,
        topic_configs={"retention.ms": str(spec.retention_ms)},
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
