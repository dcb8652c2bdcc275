"""The kafka_topics custom-resource handler against a real Kafka broker (the local one).

Only the connection differs from MSK: the broker speaks plaintext, so the admin-client factory
is swapped; the CloudFormation sender is injected to record the responses.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient

from lambdas.kafka_topics import handler as kafka_topics
from lambdas.shared.custom_resource import respond

pytestmark = pytest.mark.integration
HOUR_MS = 3_600_000


@pytest.fixture
def admin(kafka_bootstrap: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[KafkaAdminClient]:
    def plaintext_client(servers: str) -> KafkaAdminClient:
        return KafkaAdminClient(bootstrap_servers=servers.split(","), client_id="test-topics")

    monkeypatch.setattr(kafka_topics, "_admin_client", plaintext_client)
    client = plaintext_client(kafka_bootstrap)
    yield client
    client.close()


@pytest.fixture
def names(admin: KafkaAdminClient) -> Iterator[tuple[str, str]]:
    suffix = uuid.uuid4().hex[:10]
    created = (f"test.cr.events.{suffix}", f"test.cr.dlq.{suffix}")
    yield created
    existing = set(admin.list_topics()) & set(created)
    if existing:
        admin.delete_topics(sorted(existing))


def _event(
    request_type: str, bootstrap: str, topics: list[tuple[str, int, int]], delete: str = "false"
) -> dict[str, Any]:
    return {
        "RequestType": request_type,
        "ResponseURL": "https://cloudformation.invalid/response",
        "StackId": "arn:aws:cloudformation:eu-west-1:123456789012:stack/dev-Streaming/1a2b",
        "RequestId": str(uuid.uuid4()),
        "LogicalResourceId": "Topics",
        "PhysicalResourceId": "kafka-topics:ecommerce-test",
        "ResourceProperties": {
            "ClusterName": "ecommerce-test",
            "BootstrapServers": bootstrap,
            "Topics": [
                {"Name": name, "Partitions": str(partitions), "RetentionHours": str(hours)}
                for name, partitions, hours in topics
            ],
            "DeleteTopicsOnDelete": delete,
            "ReplicationFactor": "1",
        },
    }


def _run(event: dict[str, Any]) -> dict[str, Any]:
    sent: list[dict[str, Any]] = []
    respond(event, None, kafka_topics.reconcile, send=lambda _url, body: sent.append(body))
    (body,) = sent
    return body


def _partitions(admin: KafkaAdminClient, name: str) -> int:
    (topic,) = admin.describe_topics([name])
    return len(topic["partitions"])


def _retention_ms(admin: KafkaAdminClient, name: str) -> int:
    (response,) = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, name)])
    (resource,) = response.resources
    entries = {entry[0]: entry[1] for entry in resource[4]}
    return int(entries["retention.ms"])


def _settled(read: Callable[[], Any], expected: Any, timeout_s: float = 10.0) -> Any:
    """The value `read` returns once it equals `expected`, or its last value after timeout_s.

    Brokers apply topic changes from the KRaft metadata log asynchronously, so a describe
    right after a successful create/alter may still show the old value for a moment.
    """
    deadline = time.monotonic() + timeout_s
    value = read()
    while value != expected and time.monotonic() < deadline:
        time.sleep(0.1)
        value = read()
    return value


def _shape(admin: KafkaAdminClient, name: str) -> tuple[int, int]:
    return _partitions(admin, name), _retention_ms(admin, name)


def test_create_then_update_grows_partitions_and_sets_retention(kafka_bootstrap, admin, names):
    events, dlq = names
    created = _run(_event("Create", kafka_bootstrap, [(events, 2, 72), (dlq, 1, 168)]))
    assert created["Status"] == "SUCCESS", created.get("Reason")
    assert created["Data"]["Created"] == f"{events},{dlq}"
    assert _settled(lambda: _shape(admin, events), (2, 72 * HOUR_MS)) == (2, 72 * HOUR_MS)
    assert _settled(lambda: _shape(admin, dlq), (1, 168 * HOUR_MS)) == (1, 168 * HOUR_MS)

    updated = _run(_event("Update", kafka_bootstrap, [(events, 4, 24), (dlq, 1, 168)]))
    assert updated["Status"] == "SUCCESS", updated.get("Reason")
    assert updated["Data"]["Created"] == ""
    assert _settled(lambda: _shape(admin, events), (4, 24 * HOUR_MS)) == (4, 24 * HOUR_MS)


def test_fewer_partitions_fails_the_deploy_with_the_topic_named(kafka_bootstrap, admin, names):
    events, dlq = names
    _run(_event("Create", kafka_bootstrap, [(events, 3, 72), (dlq, 1, 72)]))
    failed = _run(_event("Update", kafka_bootstrap, [(events, 2, 72), (dlq, 1, 72)]))
    assert failed["Status"] == "FAILED"
    assert f"{events} has 3, config asks 2" in failed["Reason"]
    assert _settled(lambda: _partitions(admin, events), 3) == 3


def test_delete_removes_topics_only_under_destroy_data(kafka_bootstrap, admin, names):
    events, dlq = names
    topics = [(events, 1, 1), (dlq, 1, 1)]
    _run(_event("Create", kafka_bootstrap, topics))

    kept = _run(_event("Delete", kafka_bootstrap, topics, delete="false"))
    assert kept["Status"] == "SUCCESS"
    assert _settled(lambda: {events, dlq} <= set(admin.list_topics()), True)

    removed = _run(_event("Delete", kafka_bootstrap, topics, delete="true"))
    assert removed["Status"] == "SUCCESS"
    assert removed["PhysicalResourceId"] == "kafka-topics:ecommerce-test"
    assert _settled(lambda: {events, dlq} & set(admin.list_topics()), set()) == set()
