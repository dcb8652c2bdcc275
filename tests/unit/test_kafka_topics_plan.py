"""The kafka_topics custom resource's plan: create, grow, set retention, never shrink."""

from __future__ import annotations

import pytest

from lambdas.kafka_topics.topics import TopicSpec, desired_topics, plan_changes

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
