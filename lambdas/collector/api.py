"""The collector's HTTP API: routes on Powertools' API Gateway HTTP API (payload v2.0) resolver.

Routing, error mapping and the response shape live here; judging events is batch.py's job and
delivery is a publisher's, so the Lambda and the local server build the same app with their
own publisher. A request answers only after Kafka acknowledged every record of it (acks=all):
a 200 means its events are stored, accepted ones on the events topic, rejected ones on the
dead-letter topic. When Kafka cannot take them the answer is 503, naming the request's
event ids, and the client retries; events that did get through before the failure (or once
the broker came back) are stored twice, which the consumers' dedupe by event_id absorbs.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

import orjson
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, CORSConfig, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError

from lambdas.collector.batch import (
    JSON_MEDIA_TYPE,
    KafkaRecord,
    RequestContext,
    RequestRejectedError,
    Topics,
    read_events,
    response_body,
    triage,
)
from lambdas.shared.kafka_producer import EventProducer, ProducerError

logger = logging.getLogger(__name__)

EVENTS_PATH = "/v1/events"
HEALTH_PATH = "/v1/health"
ALLOWED_METHODS = {EVENTS_PATH: "POST", HEALTH_PATH: "GET"}
RETRY_AFTER_S = 5
PUBLISH_TIMEOUT_S = 10.0
CORS_MAX_AGE_S = 3600  # browsers may reuse a preflight's answer this long


class PublishError(RuntimeError):
    """Kafka did not acknowledge every record of a request."""


class RecordPublisher(Protocol):
    def publish(self, records: Sequence[KafkaRecord]) -> None:
        """Store every record or raise PublishError."""


class KafkaRecordPublisher:
    """Sends a request's records in order and waits until the broker has every one."""

    def __init__(self, producer: EventProducer, timeout_s: float = PUBLISH_TIMEOUT_S) -> None:
        self._producer = producer
        self._timeout_s = timeout_s

    def publish(self, records: Sequence[KafkaRecord]) -> None:
        try:
            self._producer.deliver(records, self._timeout_s)
        except ProducerError as error:
            raise PublishError(str(error)) from error


def request_body(event: Mapping[str, Any]) -> bytes:
    """The raw body of an API Gateway v2.0 event (base64 when API Gateway saw binary)."""
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        return base64.b64decode(body)
    return body.encode("utf-8", "surrogatepass")


def error_response(
    status: int,
    error: str,
    message: str,
    headers: Mapping[str, str] | None = None,
    event_ids: Sequence[str | None] = (),
) -> Response:
    """An error answer naming the events it concerns (none when the body was never read as
    events), so a client knows which ids to send again."""
    return Response(
        status_code=status,
        content_type=JSON_MEDIA_TYPE,
        body={"error": error, "message": message, "event_ids": list(event_ids)},
        headers=headers,
    )


def _cors(origins: Sequence[str]) -> CORSConfig | None:
    if not origins:
        return None
    return CORSConfig(
        allow_origin=origins[0],
        extra_origins=list(origins[1:]),
        allow_headers=["Content-Type"],
        max_age=CORS_MAX_AGE_S,
    )


def create_app(
    publisher: RecordPublisher,
    topics: Topics,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    cors_origins: Sequence[str] = (),
) -> APIGatewayHttpResolver:
    """The collector's routes, publishing through `publisher` to `topics`.

    With `cors_origins`, pages of those origins may post from a browser: preflights are
    answered and responses carry the CORS headers. The Lambda leaves that to API Gateway
    (configured from the same setting); the local server does it here.
    """
    app = APIGatewayHttpResolver(cors=_cors(cors_origins))

    @app.get(HEALTH_PATH)
    def health() -> Response:
        return Response(status_code=200, content_type=JSON_MEDIA_TYPE, body={"status": "ok"})

    @app.post(EVENTS_PATH)
    def post_events() -> Response:
        request = app.current_event
        events = read_events(request_body(request.raw_event), request.headers.get("content-type"))
        context = RequestContext(request.request_context.request_id, clock())
        results, records = triage(events, topics, context)
        try:
            publisher.publish(records)
        except PublishError as error:
            logger.error("events not stored, answering 503: %s", error)
            return error_response(
                503,
                "unavailable",
                "the events could not be stored; retry the same request later",
                {"Retry-After": str(RETRY_AFTER_S)},
                [result.event_id for result in results],
            )
        # Serialized here with orjson: the resolver's json.dumps is slow on 500 results.
        body = orjson.dumps(response_body(results)).decode()
        return Response(status_code=200, content_type=JSON_MEDIA_TYPE, body=body)

    @app.exception_handler(RequestRejectedError)
    def rejected(error: RequestRejectedError) -> Response:
        return error_response(error.status, error.error, error.message, event_ids=error.event_ids)

    @app.not_found
    def no_route(_: NotFoundError) -> Response:
        path = app.current_event.path
        allowed = ALLOWED_METHODS.get(path)
        if allowed is None:
            return error_response(404, "not_found", f"no resource at {path}")
        method = app.current_event.http_method
        return error_response(
            405, "method_not_allowed", f"{path} takes {allowed}, not {method}", {"Allow": allowed}
        )

    return app
