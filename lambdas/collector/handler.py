"""Lambda entry point of the collector, behind an API Gateway HTTP API (payload v2.0).

Environment:
- KAFKA_BOOTSTRAP_SERVERS; KAFKA_AUTH=iam and AWS_REGION on MSK (lambdas.shared.kafka_producer);
- EVENTS_TOPIC and DEAD_LETTER_TOPIC (the streaming topics of the environment's config).

The producer is built on the first request and kept for the life of the execution
environment, so warm requests pay only for their own records.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

from lambdas.collector.api import KafkaRecordPublisher, create_app
from lambdas.collector.batch import Topics
from lambdas.shared.kafka_producer import create_producer, kafka_settings_from_environment

# A request must fail well inside API Gateway's 30 s limit when Kafka is unreachable.
MAX_BLOCK_MS = 10_000

_app: APIGatewayHttpResolver | None = None


def topics_from_environment(environ: Mapping[str, str]) -> Topics:
    missing = [name for name in ("EVENTS_TOPIC", "DEAD_LETTER_TOPIC") if not environ.get(name)]
    if missing:
        raise RuntimeError(f"set {' and '.join(missing)}")
    return Topics(events=environ["EVENTS_TOPIC"], dead_letters=environ["DEAD_LETTER_TOPIC"])


def _collector() -> APIGatewayHttpResolver:
    global _app
    if _app is None:
        producer = create_producer(
            kafka_settings_from_environment(os.environ),
            client_id="collector",
            max_block_ms=MAX_BLOCK_MS,
        )
        _app = create_app(KafkaRecordPublisher(producer), topics_from_environment(os.environ))
    return _app


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _collector().resolve(event, context)
