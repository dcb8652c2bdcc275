"""The kafka_topics custom resource's plan: create, grow, set retention, never shrink; and
applying it when the broker's metadata lags behind a topic just created."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from kafka.errors import TopicAlreadyExistsError

from lambdas.kafka_topics import handler
from lambdas.kafka_topics.topics import MS_PER_HOUR, TopicSpec, desired_topics, plan_changes

EVENTS = TopicSpec("ecommerce.events.v1", partitions=6, retention_ms=72 * 3_600_000)
DLQ = TopicSpec("ecommerce.events.dlq", partitions=2, retention_ms=168 * 3_600_000)


def test_properties_arrive_as_strings_and_become_milliseconds():
    properties = {
        "Topics": [
            {"Name": "ecommerce.events.v1", "Partitions": "6", "RetentionHours": "72"},
            {"Name": "ecommerce.events.dlq", "Partitions": "2", "RetentionHours": "168"},
        ]
    }
    assert desired_topics(properties) == [EVENTS, DLQ]
    assert EVENTS.retention_ms == 259_200_000  # 3 days


def test_empty_cluster_creates_everything():
    plan = plan_changes([EVENTS, DLQ], {})
    assert plan.create == (EVENTS, DLQ)
    assert plan.grow_partitions == {}
    assert plan.set_retention_ms == {}


def test_existing_topics_grow_and_get_retention_set():
    plan = plan_changes([EVENTS, DLQ], {"ecommerce.events.v1": 3, "ecommerce.events.dlq": 2})
    assert plan.create == ()
    assert plan.grow_partitions == {"ecommerce.events.v1": 6}
    assert plan.set_retention_ms == {
        "ecommerce.events.v1": 259_200_000,
        "ecommerce.events.dlq": 604_800_000,
    }


def test_topics_outside_config_are_left_alone():
    plan = plan_changes([EVENTS], {"ecommerce.events.v1": 6, "legacy.topic": 1})
    assert "legacy.topic" not in {*plan.grow_partitions, *plan.set_retention_ms}


def test_shrinking_partitions_fails_naming_the_topic():
    with pytest.raises(ValueError, match=r"ecommerce\.events\.v1 has 12, config asks 6"):
        plan_changes([EVENTS, DLQ], {"ecommerce.events.v1": 12})


class _StaleMetadataAdmin:
    """A broker whose first metadata answer predates topics another request just created."""

    def __init__(self, partitions: dict[str, int]) -> None:
        self.partitions = partitions
        self.describes = 0
        self.created: list[str] = []
        self.grown: dict[str, int] = {}

    def describe_topics(self, names: list[str]) -> list[dict]:
        self.describes += 1
        return [
            {"topic": name, "error_code": 0, "partitions": [{}] * self.partitions[name]}
            if self.describes > 1 and name in self.partitions
            else {"topic": name, "error_code": 3, "partitions": []}
            for name in names
        ]

    def create_topics(self, topics: list) -> None:
        if any(topic.name in self.partitions for topic in topics):
            raise TopicAlreadyExistsError("Topic already exists.")
        self.created += [topic.name for topic in topics]

    def create_partitions(self, totals: dict) -> None:
        self.grown = {name: new.total_count for name, new in totals.items()}

    def alter_configs(self, resources: list) -> object:
        return SimpleNamespace(resources=[(0, None, 2, r.name) for r in resources])


def test_a_stale_metadata_read_is_planned_again_instead_of_failing_the_deploy(monkeypatch):
    monkeypatch.setattr(handler, "_METADATA_WAIT_S", 0)
    admin = _StaleMetadataAdmin({"events": 3, "dlq": 1})
    desired = [TopicSpec("events", 6, 72 * MS_PER_HOUR), TopicSpec("dlq", 1, 72 * MS_PER_HOUR)]

    plan = handler._apply(admin, desired, 1, handler._partition_counts(admin, ["events", "dlq"]))

    assert admin.describes == 2
    assert admin.created == []
    assert admin.grown == {"events": 6}
    assert plan.create == ()
    assert dict(plan.set_retention_ms) == {"events": 72 * MS_PER_HOUR, "dlq": 72 * MS_PER_HOUR}


def test_a_shrink_seen_only_after_the_fresh_read_still_names_the_topic(monkeypatch):
    monkeypatch.setattr(handler, "_METADATA_WAIT_S", 0)
    admin = _StaleMetadataAdmin({"events": 3})
    desired = [TopicSpec("events", 2, MS_PER_HOUR)]

    with pytest.raises(ValueError, match="events has 3, config asks 2"):
        handler._apply(admin, desired, 1, handler._partition_counts(admin, ["events"]))
