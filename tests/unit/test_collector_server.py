"""The local server's translation of HTTP requests into API Gateway v2.0 events, and back."""

from __future__ import annotations

import base64
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from local_platform.collector_server import CollectorServer, api_gateway_event


def test_request_becomes_a_payload_v2_event() -> None:
    event = api_gateway_event(
        "POST",
        "/v1/events?debug=1&x=2",
        [("Content-Type", "application/json"), ("X-Tag", "a"), ("x-tag", "b"),
         ("Cookie", "s=1; t=2")],
        b'{"a": 1}',
        "127.0.0.1",
        "req-9",
        1_790_000_000_123,
    )  # fmt: skip
    assert event["version"] == "2.0"
    assert (event["rawPath"], event["rawQueryString"]) == ("/v1/events", "debug=1&x=2")
    assert event["headers"] == {"content-type": "application/json", "x-tag": "a,b"}
    assert event["cookies"] == ["s=1", "t=2"]
    assert (event["body"], event["isBase64Encoded"]) == ('{"a": 1}', False)
    http = event["requestContext"]["http"]
    assert (http["method"], http["path"], http["sourceIp"]) == ("POST", "/v1/events", "127.0.0.1")
    assert event["requestContext"]["requestId"] == "req-9"
    assert event["requestContext"]["timeEpoch"] == 1_790_000_000_123


def test_binary_body_is_base64_and_no_body_is_absent() -> None:
    raw = b"\xff\x00binary"
    binary = api_gateway_event("POST", "/v1/events", [], raw, "::1", "r", 0)
    assert binary["isBase64Encoded"] is True
    assert base64.b64decode(binary["body"]) == raw
    assert "body" not in api_gateway_event("GET", "/v1/health", [], b"", "::1", "r", 0)


@pytest.fixture
def serve() -> Iterator[Any]:
    servers: list[CollectorServer] = []

    def start(handler: Any) -> str:
        server = CollectorServer("127.0.0.1", 0, handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server.url

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_handler_answer_becomes_the_response(serve: Any) -> None:
    seen: list[dict] = []

    def handler(event: dict, context: object) -> dict:
        seen.append(event)
        return {
            "statusCode": 201,
            "headers": {"Content-Type": "text/plain", "X-Answer": "42"},
            "body": base64.b64encode(b"made").decode(),
            "isBase64Encoded": True,
        }

    url = serve(handler)
    request = urllib.request.Request(f"{url}/anything?q=1", data=b"hi", method="PATCH")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert (response.status, response.read()) == (201, b"made")
        assert response.headers["X-Answer"] == "42"
    assert seen[0]["requestContext"]["http"]["method"] == "PATCH"
    assert (seen[0]["rawPath"], seen[0]["body"]) == ("/anything", "hi")


def test_a_failing_handler_is_a_500_like_api_gateways(serve: Any) -> None:
    def handler(event: dict, context: object) -> dict:
        raise RuntimeError("boom")

    url = serve(handler)
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(f"{url}/v1/health", timeout=10)
    assert caught.value.code == 500
