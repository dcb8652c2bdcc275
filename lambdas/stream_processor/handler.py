"""Lambda entry point for the MSK event source mapping: configuration in, batch summary out.

The environment is read by lambdas.stream_processor.settings (which names the variables).

An exception fails the whole batch: the transaction rolls back and the event source mapping
retries it (then hands it to its on-failure destination); counts are never half-applied.
Poison records do not raise; they are stored in realtime.dead_letters.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from typing import Any

import psycopg
from psycopg.conninfo import make_conninfo

from contracts.database import PostgresEndpoint, read_secret
from lambdas.stream_processor.dead_letters import DeadLetterTopic
from lambdas.stream_processor.processor import process_msk_event
from lambdas.stream_processor.settings import StreamProcessorSettings

logger = logging.getLogger(__name__)
logger.setLevel(logging.INFO)

_connection: psycopg.Connection | None = None
_configuration: tuple[StreamProcessorSettings, DeadLetterTopic | None] | None = None


def database_url(settings: StreamProcessorSettings) -> str:
    """DATABASE_URL as given, else a connection string built from the named secret."""
    if settings.database_url:
        return settings.database_url
    import boto3  # only on this path: boto3 is part of the Lambda runtime, not of local runs

    secret = read_secret(boto3.client("secretsmanager"), str(settings.database_secret_arn))
    return make_conninfo(**PostgresEndpoint.from_rds_secret(secret).libpq_parameters())


def dead_letter_topic(settings: StreamProcessorSettings) -> DeadLetterTopic | None:
    """Where dead letters are also published, when the environment names a topic."""
    if settings.dead_letter_topic is None or settings.kafka is None:
        return None
    return DeadLetterTopic(settings.dead_letter_topic, settings.kafka)


def _database(settings: StreamProcessorSettings) -> psycopg.Connection:
    """One connection per execution environment, reopened when it was lost."""
    global _connection
    if _connection is None or _connection.closed or _connection.broken:
        _connection = psycopg.connect(database_url(settings), autocommit=True, connect_timeout=10)
    return _connection


def _configured() -> tuple[StreamProcessorSettings, DeadLetterTopic | None]:
    """The settings and dead-letter topic, read once per execution environment (its variables
    are fixed for its life) rather than validated again on every batch."""
    global _configuration
    if _configuration is None:
        settings = StreamProcessorSettings.from_environment(os.environ)
        _configuration = (settings, dead_letter_topic(settings))
    return _configuration


def handler(event: Mapping[str, Any], context: Any) -> dict[str, int]:
    settings, dead_letters = _configured()
    result = process_msk_event(event, _database(settings), settings.processor, dead_letters)
    counts = result.as_dict()
    logger.info("stream batch %s", json.dumps({**counts, "stage_ms": result.stage_ms()}))
    return counts
