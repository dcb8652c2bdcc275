"""Lambda entry point for the MSK event source mapping: configuration in, batch summary out.

Environment:
- DATABASE_URL, or DATABASE_SECRET_ARN naming a Secrets Manager secret in the RDS JSON shape
  (host, port, username, password, dbname);
- CART_ABANDONMENT_MINUTES (realtime.cart_abandonment_minutes of the environment's config);
- DEDUPE_WINDOW_HOURS (the events topic's retention in the config: how long ids are kept);
- DEAD_LETTER_TOPIC, optional: dead letters are then also published there (through
  KAFKA_BOOTSTRAP_SERVERS, KAFKA_AUTH=iam on MSK; see lambdas.shared.kafka_producer).

An exception fails the whole batch: the transaction rolls back and the event source mapping
retries it (then hands it to its on-failure destination); counts are never half-applied.
Poison records do not raise; they are stored in realtime.dead_letters.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping, Sequence
from typing import Any

import psycopg
from psycopg.conninfo import make_conninfo

from lambdas.shared.kafka_producer import (
    KafkaSettings,
    create_producer,
    kafka_settings_from_environment,
)
from lambdas.stream_processor.dead_letters import DeadLetter, KafkaDeadLetterPublisher
from lambdas.stream_processor.processor import ProcessorSettings, process_msk_event

logger = logging.getLogger(__name__)
logger.setLevel(logging.INFO)

_connection: psycopg.Connection | None = None
_dead_letter_topic: DeadLetterTopic | None = None


class DeadLetterTopic:
    """Publishes dead letters to a topic. The producer is built on the first dead letter, so
    clean batches never pay for a Kafka connection; the settings are checked at once."""

    def __init__(self, topic: str, settings: KafkaSettings) -> None:
        self.topic = topic
        self.settings = settings
        self._publisher: KafkaDeadLetterPublisher | None = None

    def publish(self, letters: Sequence[DeadLetter]) -> None:
        if self._publisher is None:
            producer = create_producer(self.settings, client_id="stream-processor")
            self._publisher = KafkaDeadLetterPublisher(producer, self.topic)
        self._publisher.publish(letters)


def dead_letter_topic_from_environment(environ: Mapping[str, str]) -> DeadLetterTopic | None:
    topic = environ.get("DEAD_LETTER_TOPIC")
    return DeadLetterTopic(topic, kafka_settings_from_environment(environ)) if topic else None


def database_url_from_environment(environ: Mapping[str, str]) -> str:
    """DATABASE_URL as given, else a connection string built from the named secret."""
    if environ.get("DATABASE_URL"):
        return environ["DATABASE_URL"]
    secret_arn = environ.get("DATABASE_SECRET_ARN")
    if not secret_arn:
        raise RuntimeError("set DATABASE_URL or DATABASE_SECRET_ARN")
    import boto3  # only on this path: boto3 is part of the Lambda runtime, not of local runs

    secret = json.loads(
        boto3.client("secretsmanager").get_secret_value(SecretId=secret_arn)["SecretString"]
    )
    return make_conninfo(
        host=secret["host"],
        port=secret.get("port", 5432),
        user=secret["username"],
        password=secret["password"],
        dbname=secret["dbname"],
        sslmode="require",
    )


def settings_from_environment(environ: Mapping[str, str]) -> ProcessorSettings:
    return ProcessorSettings(
        cart_abandonment_minutes=_positive_integer(environ, "CART_ABANDONMENT_MINUTES"),
        dedupe_window_hours=_positive_integer(environ, "DEDUPE_WINDOW_HOURS"),
    )


def _positive_integer(environ: Mapping[str, str], name: str) -> int:
    value = environ.get(name)
    if not value or not value.isdigit() or int(value) < 1:
        raise RuntimeError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _database() -> psycopg.Connection:
    """One connection per execution environment, reopened when it was lost."""
    global _connection
    if _connection is None or _connection.closed or _connection.broken:
        _connection = psycopg.connect(
            database_url_from_environment(os.environ), autocommit=True, connect_timeout=10
        )
    return _connection


def _dead_letters() -> DeadLetterTopic | None:
    global _dead_letter_topic
    if _dead_letter_topic is None:
        _dead_letter_topic = dead_letter_topic_from_environment(os.environ)
    return _dead_letter_topic


def handler(event: Mapping[str, Any], context: Any) -> dict[str, int]:
    result = process_msk_event(
        event, _database(), settings_from_environment(os.environ), _dead_letters()
    )
    logger.info("stream batch %s", json.dumps(result.as_dict()))
    return result.as_dict()
