"""Kafka fixtures for integration tests: one broker per test run, fresh topics per test.

The broker is the one named by KAFKA_BOOTSTRAP_SERVERS (`make test` starts the local broker
and sets it, so parallel workers share it); without it, the local broker is started here and
left running for the next run, like the embedded PostgreSQL. Each test gets its own topics,
so tests never read each other's records.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from kafka_test_topics import StreamTopics, create_stream_topics, delete_stream_topics

from lambdas.shared.kafka_producer import EventProducer, KafkaSettings, create_producer
from local_platform.kafka_broker import resolve_bootstrap_servers


@pytest.fixture(scope="session")
def kafka_bootstrap() -> str:
    return resolve_bootstrap_servers(progress=False)


@pytest.fixture
def stream_topics(kafka_bootstrap: str) -> Iterator[StreamTopics]:
    """An events topic (3 partitions) and a dead-letter topic, deleted after the test."""
    topics = create_stream_topics(kafka_bootstrap)
    yield topics
    delete_stream_topics(topics)


@pytest.fixture
def idempotent_producer(kafka_bootstrap: str) -> Iterator[EventProducer]:
    producer = create_producer(KafkaSettings(kafka_bootstrap), client_id="test")
    yield producer
    producer.close()


@pytest.fixture
def realtime_conn(migrated_database: str) -> Iterator[psycopg.Connection]:
    """An autocommit connection to a fresh database with the realtime schema."""
    with psycopg.connect(migrated_database, autocommit=True) as conn:
        yield conn
