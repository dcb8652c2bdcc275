"""Lambda entry point of the collector, behind an API Gateway HTTP API (payload v2.0).

The environment is read by lambdas.collector.settings (which names the variables). The
producer is built on the first request and kept for the life of the execution environment,
so warm requests pay only for their own records.
"""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

from lambdas.collector.api import KafkaRecordPublisher, create_app
from lambdas.collector.settings import CollectorSettings
from lambdas.shared.kafka_producer import create_producer

# A request must fail well inside API Gateway's 30 s limit when Kafka is unreachable.
MAX_BLOCK_MS = 10_000

_app: APIGatewayHttpResolver | None = None


def _collector() -> APIGatewayHttpResolver:
    global _app
    if _app is None:
        settings = CollectorSettings.from_environment(os.environ)
        producer = create_producer(settings.kafka, client_id="collector", max_block_ms=MAX_BLOCK_MS)
        _app = create_app(KafkaRecordPublisher(producer), settings.topics)
    return _app


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _collector().resolve(event, context)
