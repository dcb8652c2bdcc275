"""The local server's translation of HTTP requests into API Gateway v2.0 events, and back."""

from __future__ import annotations

import base64
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from local_platform.collector_server import CollectorServer, api_gateway_event, by_path


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

    def start(handler: Any, **options: float) -> str:
        server = CollectorServer("127.0.0.1", 0, handler, **options)
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


def health(event: dict, context: object) -> dict:
    return {"statusCode": 200, "headers": {}, "body": "ok"}


def stalled(url: str, sent: bytes) -> socket.socket:
    """A connection that sends `sent` and then nothing."""
    host, port = url.removeprefix("http://").split(":")
    connection = socket.create_connection((host, int(port)), timeout=10)
    connection.sendall(sent)
    return connection


@pytest.mark.parametrize(
    "sent",
    [
        b"POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n",  # body missing
        b"POST /v1/events HTTP/1.1\r\nHost: x\r\n",  # headers unfinished
        b"",  # nothing at all
    ],
    ids=["body missing", "headers unfinished", "nothing sent"],
)
def test_a_stalled_connection_is_closed_after_the_read_timeout(serve: Any, sent: bytes) -> None:
    url = serve(health, read_timeout_s=0.5)
    with stalled(url, sent) as connection:
        started = time.monotonic()
        assert connection.recv(1024) == b""  # closed by the server, nothing answered
        assert time.monotonic() - started < 5


def test_connections_over_the_cap_wait_for_a_slot_at_most_one_read_timeout(serve: Any) -> None:
    read_timeout_s, cap = 1.0, 2
    url = serve(health, read_timeout_s=read_timeout_s, max_connections=cap)
    connections = [stalled(url, b"GET /v1/health HTTP/1.1\r\n") for _ in range(cap + 1)]
    try:
        started = time.monotonic()
        with urllib.request.urlopen(f"{url}/v1/health", timeout=10) as response:
            assert (response.status, response.read()) == (200, b"ok")
        waited = time.monotonic() - started
    finally:
        for connection in connections:
            connection.close()
    # It waited for a stalled connection to time out (the cap held), and no longer than that.
    assert read_timeout_s / 2 <= waited < read_timeout_s + 4


def test_query_string_becomes_api_gateway_parameters() -> None:
    event = api_gateway_event(
        "GET", "/v1/recommendations?user_id=7&limit=&user_id=8&q=a%20b", [], b"", "::1", "r", 0
    )
    assert event["queryStringParameters"] == {"user_id": "7,8", "limit": "", "q": "a b"}
    assert "queryStringParameters" not in api_gateway_event(
        "GET", "/v1/health", [], b"", "::1", "r", 0
    )


def test_by_path_sends_each_route_to_its_handler() -> None:
    def answer(name: str) -> Any:
        return lambda event, context: {"statusCode": 200, "body": name}

    route = by_path({"/v1/recommendations": answer("reco")}, answer("collector"))

    for path, expected in [
        ("/v1/recommendations", "reco"),
        ("/v1/events", "collector"),
        ("/x", "collector"),
    ]:
        event = api_gateway_event("GET", path, [], b"", "::1", "r", 0)
        assert route(event, None)["body"] == expected
