"""The collector's request handling: limits, per-event results, dead letters, HTTP mapping.

Inputs are written out here; expected values come from the API's written rules (limits of
500 events / 1 MiB, the status per failure, the dead-letter fields) and from the inputs
themselves (keys, payload bytes computed with the standard json module).
"""

from __future__ import annotations

import base64
import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from lambdas.collector.api import PublishError, create_app
from lambdas.collector.batch import (
    MAX_BATCH_EVENTS,
    MAX_BODY_BYTES,
    MAX_DEAD_LETTER_PAYLOAD_BYTES,
    KafkaRecord,
    RequestContext,
    RequestRejectedError,
    Topics,
    read_events,
    response_body,
    triage,
)
from lambdas.collector.settings import CollectorSettings

TOPICS = Topics(events="events.v1", dead_letters="events.dlq")
RECEIVED = datetime(2026, 10, 1, 12, 0, 0, 250_000, tzinfo=UTC)
CONTEXT = RequestContext("req-1", RECEIVED)
ANONYMOUS_ID = "81d58e19-4556-489f-95f7-0c4b6a086b19"

PAGE_VIEW: dict[str, Any] = {
    "event_id": "05de57c4-21d1-4992-9143-8f35c05d3028",
    "event_type": "page_viewed",
    "schema_version": "1.0",
    "occurred_at": "2026-10-01T12:30:02.530Z",
    "user_id": None,
    "anonymous_id": ANONYMOUS_ID,
    "session_id": "12524fb6-903f-41e1-b01e-509ee3d90595",
    "context": {
        "channel": "web",
        "device": {"type": "desktop", "os": "macOS", "browser": "Firefox"},
        "page": {"path": "/c/shoes", "title": "Shoes"},
        "referrer": None,
        "utm": None,
        "traffic_source": "direct",
    },
    "properties": {"page_type": "category", "path": "/c/shoes"},
}
ADD_TO_CART: dict[str, Any] = {
    **PAGE_VIEW,
    "event_id": "387ff44c-9d24-4a37-b44d-2611b33acf8c",
    "event_type": "product_added_to_cart",
    "user_id": 4821,
    "properties": {
        "cart_id": "35a33b1e-e878-4651-bd8e-093180af8bc7",
        "product_id": 1093,
        "quantity": 2,
        "unit_price": 24.99,
        "currency": "USD",
    },
}


def negative_quantity() -> dict[str, Any]:
    event = copy.deepcopy(ADD_TO_CART)
    event["event_id"] = "9b0c1d2e-3f40-4a5b-8c6d-7e8f9a0b1c2d"
    event["properties"]["quantity"] = -1
    return event


def body(value: Any) -> bytes:
    return json.dumps(value).encode()


def compact(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


# ---- reading the body ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (PAGE_VIEW, [PAGE_VIEW]),
        ([PAGE_VIEW, ADD_TO_CART], [PAGE_VIEW, ADD_TO_CART]),
        ({"events": [ADD_TO_CART, 7]}, [ADD_TO_CART, 7]),
        ({"something": "else"}, [{"something": "else"}]),  # one (invalid) event
    ],
)
def test_body_shapes(payload: Any, expected: list[Any]) -> None:
    assert read_events(body(payload), "application/json") == expected


def test_media_type_parameters_are_allowed() -> None:
    assert read_events(body([1]), "Application/JSON; charset=utf-8") == [1]


@pytest.mark.parametrize("content_type", [None, "", "text/plain", "application/x-ndjson"])
def test_wrong_media_type_is_415(content_type: str | None) -> None:
    with pytest.raises(RequestRejectedError) as caught:
        read_events(body(PAGE_VIEW), content_type)
    assert (caught.value.status, caught.value.error) == (415, "unsupported_media_type")


def test_batch_of_exactly_500_passes_and_501_is_413() -> None:
    assert len(read_events(body([0] * MAX_BATCH_EVENTS), "application/json")) == 500
    for payload in ([0] * 501, {"events": [0] * 501}):
        with pytest.raises(RequestRejectedError) as caught:
            read_events(body(payload), "application/json")
        assert (caught.value.status, caught.value.error) == (413, "too_many_events")
        assert "501 events" in caught.value.message


def test_body_of_exactly_1_mib_passes_and_one_byte_more_is_413() -> None:
    assert MAX_BODY_BYTES == 1_048_576
    filler = "a" * (MAX_BODY_BYTES - len('[""]'))
    at_limit = f'["{filler}"]'.encode()
    assert len(at_limit) == 1_048_576
    assert read_events(at_limit, "application/json") == [filler]
    with pytest.raises(RequestRejectedError) as caught:
        read_events(f'["{filler}a"]'.encode(), "application/json")
    assert (caught.value.status, caught.value.error) == (413, "payload_too_large")


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        (b"", "not valid JSON"),
        (b'{"event_id": ', "not valid JSON"),
        (b'["\xff"]', "not valid UTF-8"),
        (b"[NaN]", "not valid JSON"),
        (b"5", "an event object or an array"),
        (b'"text"', "an event object or an array"),
        (b"[]", "no events"),
        (b'{"events": []}', "no events"),
        (b'{"events": {"a": 1}}', "must be an array"),
        (b'{"events": [1], "extra": 2}', "only the key 'events' (not extra)"),
    ],
)
def test_malformed_bodies_are_400(raw: bytes, fragment: str) -> None:
    with pytest.raises(RequestRejectedError) as caught:
        read_events(raw, "application/json")
    assert (caught.value.status, caught.value.error) == (400, "malformed_body")
    assert fragment in caught.value.message


# ---- judging events ----------------------------------------------------------------------


def test_each_event_is_judged_and_routed_on_its_own() -> None:
    events = [PAGE_VIEW, ADD_TO_CART, negative_quantity(), 5]
    results, records = triage(events, TOPICS, CONTEXT)

    assert [r.as_dict() for r in results] == [
        {"index": 0, "event_id": PAGE_VIEW["event_id"], "status": "accepted"},
        {"index": 1, "event_id": ADD_TO_CART["event_id"], "status": "accepted"},
        {
            "index": 2,
            "event_id": "9b0c1d2e-3f40-4a5b-8c6d-7e8f9a0b1c2d",
            "status": "rejected",
            "reasons": ["properties.quantity: -1 is less than the minimum of 1"],
        },
        {
            "index": 3,
            "event_id": None,
            "status": "rejected",
            "reasons": ["payload: is a JSON number, not an object"],
        },
    ]
    # In request order; keyed by user id, else anonymous id, else no key.
    assert [(r.topic, r.key) for r in records] == [
        ("events.v1", ANONYMOUS_ID.encode()),
        ("events.v1", b"4821"),
        ("events.dlq", b"4821"),
        ("events.dlq", None),
    ]
    assert json.loads(records[0].value) == PAGE_VIEW
    assert json.loads(records[1].value) == ADD_TO_CART
    assert response_body(results)["accepted"] == 2
    assert response_body(results)["rejected"] == 2


def test_dead_letter_holds_reasons_source_and_the_payload() -> None:
    event = negative_quantity()
    _, records = triage([PAGE_VIEW, event], TOPICS, CONTEXT)
    letter = json.loads(records[1].value)
    assert letter == {
        "stage": "collector",
        "reasons": ["properties.quantity: -1 is less than the minimum of 1"],
        "failed_at": "2026-10-01T12:00:00.250Z",
        "event_id": "9b0c1d2e-3f40-4a5b-8c6d-7e8f9a0b1c2d",
        "event_type": "product_added_to_cart",
        "source": {"request_id": "req-1", "index": 1},
        "payload_base64": base64.b64encode(compact(event)).decode(),
        "payload_bytes": len(compact(event)),
        "payload_truncated": False,
    }


def test_event_over_32_kib_is_rejected_with_its_size() -> None:
    event = copy.deepcopy(PAGE_VIEW)
    event["context"]["page"]["title"] = "x" * 33_000
    size = len(compact(event))
    results, _ = triage([event], TOPICS, CONTEXT)
    assert results[0].reasons == (f"payload: {size} bytes is over the limit of 32768 bytes",)


def test_dead_letter_payload_is_cut_to_fit_a_kafka_record() -> None:
    event = {"blob": "y" * 100_000}
    full = compact(event)
    _, records = triage([event], TOPICS, CONTEXT)
    letter = json.loads(records[0].value)
    assert base64.b64decode(letter["payload_base64"]) == full[:MAX_DEAD_LETTER_PAYLOAD_BYTES]
    assert (letter["payload_bytes"], letter["payload_truncated"]) == (len(full), True)
    assert len(records[0].value) < 1_000_000


def test_unpaired_surrogate_rejects_only_its_event() -> None:
    events = read_events(b'[{"anonymous_id": "\\ud800"}, {}]', "application/json")
    results, records = triage(events, TOPICS, CONTEXT)
    assert [r.status for r in results] == ["rejected", "rejected"]
    assert results[0].reasons[0].startswith("event: cannot be stored as JSON consumers read")
    letter = json.loads(records[0].value)
    assert base64.b64decode(letter["payload_base64"]) == b'{"anonymous_id":"\\ud800"}'


# ---- the HTTP layer (Powertools resolver) with a fake publisher ----------------------------


class RecordingPublisher:
    def __init__(self, fail: bool = False) -> None:
        self.records: list[KafkaRecord] = []
        self.fail = fail

    def publish(self, records: Any) -> None:
        if self.fail:
            raise PublishError("broker down")
        self.records.extend(records)


def api_event(
    method: str, path: str, raw: bytes | None = None, content_type: str | None = "application/json"
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"content-type": content_type} if content_type else {},
        "requestContext": {
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "::1"},
            "requestId": "req-1",
            "routeKey": "$default",
            "stage": "$default",
            "timeEpoch": 0,
        },
        "isBase64Encoded": False,
    }
    if raw is not None:
        event["body"] = base64.b64encode(raw).decode()
        event["isBase64Encoded"] = True
    return event


def call(publisher: RecordingPublisher, event: dict[str, Any]) -> tuple[int, dict, Any]:
    app = create_app(publisher, TOPICS, clock=lambda: RECEIVED)
    response = app.resolve(event, None)
    return response["statusCode"], response["headers"], json.loads(response["body"])


def test_post_publishes_every_record_and_reports_each_event() -> None:
    publisher = RecordingPublisher()
    status, headers, answer = call(
        publisher, api_event("POST", "/v1/events", body({"events": [ADD_TO_CART, {}]}))
    )
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    assert (answer["accepted"], answer["rejected"]) == (1, 1)
    assert [r["status"] for r in answer["results"]] == ["accepted", "rejected"]
    assert [r.topic for r in publisher.records] == ["events.v1", "events.dlq"]


@pytest.mark.parametrize(
    ("event", "status", "error"),
    [
        (api_event("POST", "/v1/events", body([0] * 501)), 413, "too_many_events"),
        (api_event("POST", "/v1/events", b"{", "application/json"), 400, "malformed_body"),
        (api_event("POST", "/v1/events", body([1]), "text/csv"), 415, "unsupported_media_type"),
    ],
)
def test_whole_request_refusals_publish_nothing(event: dict, status: int, error: str) -> None:
    publisher = RecordingPublisher()
    answered, _, answer = call(publisher, event)
    assert (answered, answer["error"]) == (status, error)
    assert publisher.records == []


def test_kafka_failure_is_503_with_retry_after() -> None:
    status, headers, answer = call(
        RecordingPublisher(fail=True), api_event("POST", "/v1/events", body(PAGE_VIEW))
    )
    assert (status, answer["error"], headers["Retry-After"]) == (503, "unavailable", "5")


def test_health_and_unknown_routes() -> None:
    publisher = RecordingPublisher()
    assert call(publisher, api_event("GET", "/v1/health"))[::2] == (200, {"status": "ok"})
    status, headers, answer = call(publisher, api_event("DELETE", "/v1/events"))
    assert (status, headers["Allow"], answer["error"]) == (405, "POST", "method_not_allowed")
    assert call(publisher, api_event("GET", "/v2/events"))[0] == 404


def test_lambda_topics_come_from_the_environment() -> None:
    kafka = {"KAFKA_BOOTSTRAP_SERVERS": "b-1:9098"}  # the settings need a broker, too
    environ = {"EVENTS_TOPIC": "ecommerce.events.v1", "DEAD_LETTER_TOPIC": "ecommerce.events.dlq"}
    settings = CollectorSettings.from_environment({**kafka, **environ})
    assert settings.topics == Topics("ecommerce.events.v1", "ecommerce.events.dlq")
    with pytest.raises(RuntimeError, match="set EVENTS_TOPIC and DEAD_LETTER_TOPIC"):
        CollectorSettings.from_environment(kafka)


SHOP = "https://shop.example.com"


def browser_request(method: str, origin: str, raw: bytes | None = None) -> dict[str, Any]:
    event = api_event(method, "/v1/events", raw)
    event["headers"]["origin"] = origin
    if method == "OPTIONS":
        event["headers"]["access-control-request-method"] = "POST"
    return event


def test_browsers_of_the_configured_origins_may_post() -> None:
    publisher = RecordingPublisher()
    app = create_app(publisher, TOPICS, cors_origins=[SHOP, "http://localhost:3000"])

    preflight = app.resolve(browser_request("OPTIONS", SHOP), None)
    assert preflight["statusCode"] == 204
    assert preflight["headers"]["Access-Control-Allow-Origin"] == SHOP
    assert "POST" in preflight["headers"]["Access-Control-Allow-Methods"]
    assert preflight["headers"]["Access-Control-Max-Age"] == "3600"

    posted = app.resolve(browser_request("POST", "http://localhost:3000", body(PAGE_VIEW)), None)
    assert posted["statusCode"] == 200
    assert posted["headers"]["Access-Control-Allow-Origin"] == "http://localhost:3000"
    assert len(publisher.records) == 1

    other = app.resolve(browser_request("POST", "https://elsewhere.example", body(PAGE_VIEW)), None)
    assert "Access-Control-Allow-Origin" not in other["headers"]


def test_without_origins_no_cors_headers_and_no_preflight() -> None:
    app = create_app(RecordingPublisher(), TOPICS)
    posted = app.resolve(browser_request("POST", SHOP, body(PAGE_VIEW)), None)
    assert "Access-Control-Allow-Origin" not in posted["headers"]
    assert app.resolve(browser_request("OPTIONS", SHOP), None)["statusCode"] == 405


# ---- event ids in every answer, so a client can retry safely --------------------------------

OPENAPI = Path(__file__).resolve().parents[2] / "openapi.yaml"


def error_schema() -> dict[str, Any]:
    """The spec's Error schema, standing alone (it refers to nothing else)."""
    return yaml.safe_load(OPENAPI.read_text())["components"]["schemas"]["Error"]


def test_503_names_every_event_of_the_request_in_order() -> None:
    batch = [PAGE_VIEW, ADD_TO_CART, {"event_type": "page_viewed"}, [1]]

    status, _, answer = call(
        RecordingPublisher(fail=True), api_event("POST", "/v1/events", body(batch))
    )

    assert status == 503
    assert answer["event_ids"] == [PAGE_VIEW["event_id"], ADD_TO_CART["event_id"], None, None]
    jsonschema.validate(answer, error_schema())


def test_too_many_events_names_the_events_it_refused() -> None:
    batch = [{**PAGE_VIEW, "event_id": f"id-{i}"} for i in range(501)]

    status, _, answer = call(RecordingPublisher(), api_event("POST", "/v1/events", body(batch)))

    assert (status, answer["error"]) == (413, "too_many_events")
    assert answer["event_ids"] == [f"id-{i}" for i in range(501)]
    jsonschema.validate(answer, error_schema())


@pytest.mark.parametrize(
    "event",
    [
        api_event("POST", "/v1/events", b"{", "application/json"),
        api_event("POST", "/v1/events", body([PAGE_VIEW]), "text/csv"),
        api_event("POST", "/v1/events", body([])),
        api_event("POST", "/v1/events", b" " * (MAX_BODY_BYTES + 1)),
        api_event("DELETE", "/v1/events"),
        api_event("GET", "/v2/events"),
    ],
)
def test_errors_that_never_read_events_name_none(event: dict) -> None:
    status, _, answer = call(RecordingPublisher(), event)

    assert status >= 400
    assert answer["event_ids"] == []
