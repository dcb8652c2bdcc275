"""Kafka test helpers for the publishing paths: the collector served on a free port, and
reading a test topic back (every record, up to its end offsets at the time of reading)."""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pytest
from kafka import KafkaConsumer, TopicPartition
from kafka_test_topics import StreamTopics

from lambdas.collector.api import KafkaRecordPublisher, create_app
from lambdas.collector.batch import Topics
from lambdas.shared.kafka_producer import KafkaSettings, create_producer
from local_platform.collector_server import CollectorServer


@pytest.fixture(name="collector")
def collector_fixture(stream_topics: StreamTopics) -> Iterator[str]:
    """The collector serving on a free port, publishing to this test's topics; yields its URL."""
    producer = create_producer(KafkaSettings(stream_topics.bootstrap_servers), client_id="test")
    topics = Topics(stream_topics.events, stream_topics.dead_letters)
    server = CollectorServer("127.0.0.1", 0, create_app(KafkaRecordPublisher(producer), topics))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.url
    server.shutdown()
    server.server_close()
    producer.close()


def read_topic(bootstrap: str, topic: str) -> list[tuple[int, bytes | None, Any]]:
    """Every record of the topic as (partition, key, decoded value), in offset order per
    partition; reads up to the end offsets, so nothing posted later is waited for."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        consumer.assign(partitions)
        consumer.seek_to_beginning()
        ends = consumer.end_offsets(partitions)
        records: dict[int, list] = defaultdict(list)
        while any(consumer.position(tp) < ends[tp] for tp in partitions):
            for batch in consumer.poll(timeout_ms=1000).values():
                for record in batch:
                    records[record.partition].append(
                        (record.partition, record.key, json.loads(record.value))
                    )
        return [record for partition in sorted(records) for record in records[partition]]
    finally:
        consumer.close()
