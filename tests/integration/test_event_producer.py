"""The shared producer on the real broker: where keys land, topic checks, refused records."""

from __future__ import annotations

import pytest
from kafka.partitioner.default import murmur2
from kafka_harness import read_topic
from kafka_test_topics import StreamTopics

from lambdas.shared.kafka_producer import EventProducer, ProducerError

PARTITIONS = 3  # of the test events topic


def test_keys_land_where_java_clients_put_them(
    stream_topics: StreamTopics, idempotent_producer: EventProducer
) -> None:
    keys = [str(user).encode() for user in range(1, 61)] + [b"81d58e19-4556-489f-95f7"]
    records = [(stream_topics.events, key, b'{"n": %d}' % i) for i, key in enumerate(keys)]
    assert idempotent_producer.deliver(records, timeout_s=30) == len(keys)

    stored = read_topic(stream_topics.bootstrap_servers, stream_topics.events)
    # kafka-python's murmur2 is Kafka's default partitioner, as in the Java client.
    expected = {key: (murmur2(key) & 0x7FFFFFFF) % PARTITIONS for key in keys}
    assert {key: partition for partition, key, _ in stored} == expected
    assert len({partition for partition, _, _ in stored}) == PARTITIONS


def test_topic_check_tells_known_from_unknown(
    stream_topics: StreamTopics, idempotent_producer: EventProducer
) -> None:
    assert idempotent_producer.has_topic(stream_topics.events, timeout_s=10)
    assert not idempotent_producer.has_topic(f"{stream_topics.events}.typo", timeout_s=10)


def test_a_record_over_the_size_limit_is_refused_and_the_others_stored(
    stream_topics: StreamTopics, idempotent_producer: EventProducer
) -> None:
    records = [
        (stream_topics.events, b"1", b'{"ok": true}'),
        (stream_topics.events, b"2", b"x" * 2_000_000),  # the client's limit is 1 MB
    ]
    with pytest.raises(ProducerError, match=r"1 of 2 records failed: .*too large"):
        idempotent_producer.deliver(records, timeout_s=30)
    stored = read_topic(stream_topics.bootstrap_servers, stream_topics.events)
    assert [value for _, _, value in stored] == [{"ok": True}]
