"""Throw-away topic pairs (events + dead letters) for tests that use a real broker."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from kafka import KafkaAdminClient

from cdk_app.config import TopicConfig
from local_platform.kafka_broker import ensure_topics


@dataclass(frozen=True)
class StreamTopics:
    bootstrap_servers: str
    events: str
    dead_letters: str


def create_stream_topics(bootstrap_servers: str, partitions: int = 3) -> StreamTopics:
    suffix = uuid.uuid4().hex[:10]
    topics = StreamTopics(bootstrap_servers, f"test.events.{suffix}", f"test.dlq.{suffix}")
    ensure_topics(
        bootstrap_servers,
        [
            TopicConfig(name=topics.events, partitions=partitions, retention_hours=1),
            TopicConfig(name=topics.dead_letters, partitions=1, retention_hours=1),
        ],
    )
    return topics


def delete_stream_topics(topics: StreamTopics) -> None:
    admin = KafkaAdminClient(bootstrap_servers=topics.bootstrap_servers)
    try:
        admin.delete_topics([topics.events, topics.dead_letters])
    finally:
        admin.close()
