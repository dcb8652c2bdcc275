"""Producers for the local commands that publish (simulate, collector serve, the demo's
real-time stage), checked up front, with their tuning.

The broker is the one given on the command line, else $KAFKA_BOOTSTRAP_SERVERS, else the local
broker (started when needed); KAFKA_AUTH=iam with AWS_REGION selects MSK IAM, as in the Lambda.
On a plaintext broker the topics from config are created when missing (as `ecom stream run`
does); on MSK they exist already. Every topic a command writes to must exist before it starts,
so a typo fails in seconds with its name instead of as a stream of send timeouts.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence

from kafka.errors import KafkaError

from cdk_app.config import TopicConfig
from lambdas.shared.kafka_producer import (
    AUTH_PLAINTEXT,
    EventProducer,
    KafkaSettings,
    KafkaSettingsError,
    ProducerError,
    create_producer,
    kafka_settings_from_environment,
)
from local_platform.events_file import record_key
from local_platform.kafka_broker import KafkaBrokerError, ensure_topics, resolve_bootstrap_servers

# How long a send may wait for room in the send queue, and how long the broker has to answer
# whether a topic exists.
MAX_BLOCK_MS = 10_000
# Large batches and a short linger for producers that send continuously (the simulator, a
# whole events file), so batches fill up.
LINGER_MS = 10
BATCH_BYTES = 262_144
# How long a live producer, when it stops, waits for the acknowledgements still due.
FLUSH_TIMEOUT_S = 30.0
# How long a whole events file's sends wait for their acknowledgements.
FILE_DELIVERY_TIMEOUT_S = 120.0


class KafkaUnavailableError(RuntimeError):
    """Kafka cannot take events from this command; the message says what to fix."""


def local_kafka_settings(bootstrap_servers: str | None) -> KafkaSettings:
    try:
        if os.environ.get("KAFKA_AUTH", AUTH_PLAINTEXT).strip().lower() == AUTH_PLAINTEXT:
            bootstrap_servers = resolve_bootstrap_servers(bootstrap_servers)
        return kafka_settings_from_environment(os.environ, bootstrap_servers)
    except (KafkaSettingsError, KafkaBrokerError) as error:
        raise KafkaUnavailableError(str(error)) from error


def open_producer(
    settings: KafkaSettings,
    config_topics: Sequence[TopicConfig],
    topics: Sequence[str],
    *,
    client_id: str,
    linger_ms: int = 5,
    batch_size: int = 65_536,
) -> EventProducer:
    """A producer (lambdas.shared.kafka_producer) on a broker that answers and has `topics`."""
    servers = settings.bootstrap_servers
    try:
        if settings.auth == AUTH_PLAINTEXT:
            ensure_topics(servers, config_topics)
        producer = create_producer(
            settings,
            client_id=client_id,
            linger_ms=linger_ms,
            batch_size=batch_size,
            max_block_ms=MAX_BLOCK_MS,
        )
    except KafkaError as error:
        raise KafkaUnavailableError(f"cannot reach Kafka at {servers}: {error!r}") from error
    for topic in topics:
        try:
            found = producer.has_topic(topic, MAX_BLOCK_MS / 1000)
        except ProducerError as error:
            raise KafkaUnavailableError(f"cannot reach Kafka at {servers}: {error}") from error
        if not found:
            raise KafkaUnavailableError(f"topic {topic!r} does not exist on {servers}")
    return producer


def produce_lines(producer: EventProducer, topic: str, lines: Iterable[bytes]) -> int:
    """Send every event line keyed like the simulator and the collector do; returns how many
    the broker acknowledged, after raising if any send failed."""
    records = ((topic, record_key(line), line) for line in lines)
    try:
        return producer.deliver(records, FILE_DELIVERY_TIMEOUT_S)
    except ProducerError as error:
        raise KafkaUnavailableError(f"events were not acknowledged: {error}") from error
