"""What the Kafka topics should look like, and the changes that get a cluster there.

Pure functions over plain data, so the rules (grow partitions, never shrink them, always set
retention) are checked without a broker; handler.py applies the plan with the admin client.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MS_PER_HOUR = 3_600_000


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    retention_ms: int


@dataclass(frozen=True)
class TopicPlan:
    create: tuple[TopicSpec, ...]
    grow_partitions: Mapping[str, int]
    set_retention_ms: Mapping[str, int]


def desired_topics(properties: Mapping[str, Any]) -> list[TopicSpec]:
    """Topics from the custom resource properties (CloudFormation passes numbers as strings)."""
    return [
        TopicSpec(
            name=str(topic["Name"]),
            partitions=int(topic["Partitions"]),
            retention_ms=int(topic["RetentionHours"]) * MS_PER_HOUR,
        )
        for topic in properties["Topics"]
    ]


def plan_changes(desired: list[TopicSpec], existing_partitions: Mapping[str, int]) -> TopicPlan:
    """Create missing topics, add partitions where asked, set retention on every existing topic.

    Kafka cannot remove partitions, so asking for fewer than a topic has is an error that
    names the topic. Topics absent from `desired` are left alone: they may hold data.
    """
    shrinking = [
        f"{spec.name} has {existing_partitions[spec.name]}, config asks {spec.partitions}"
        for spec in desired
        if spec.name in existing_partitions and existing_partitions[spec.name] > spec.partitions
    ]
    if shrinking:
        raise ValueError("Kafka cannot remove partitions: " + "; ".join(shrinking))
    return TopicPlan(
        create=tuple(spec for spec in desired if spec.name not in existing_partitions),
        grow_partitions={
            spec.name: spec.partitions
            for spec in desired
            if spec.name in existing_partitions and existing_partitions[spec.name] < spec.partitions
        },
        set_retention_ms={
            spec.name: spec.retention_ms for spec in desired if spec.name in existing_partitions
        },
    )
