"""The platform's API Lambdas as a local HTTP server: each request becomes the API Gateway HTTP
API (payload v2.0) event a Lambda receives, and the handler's answer becomes the HTTP response.
`by_path` sends each route to its own Lambda's handler, as API Gateway's routes do.

Requests pass through the handler one at a time, as they would through one Lambda execution
environment (the Powertools resolver keeps the current request in class state). Bodies above
API Gateway's own 10 MB limit are refused before they are read, as API Gateway does.

A client that stalls cannot hold the server: every read waits at most `read_timeout_s`
(headers sent, then silence: the connection is closed), and at most `max_connections`
connections are served at once. Connections over the cap are not refused: they wait in the
listen backlog, unread, until one of those being served ends; since a stalled one ends after
one read timeout, a good request behind a full house of stalled ones waits at most that long.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

logger = logging.getLogger(__name__)

ApiHandler = Callable[[dict[str, Any], Any], Mapping[str, Any]]

API_GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024
# Longest silence within a request; a client on any real network sends its request in far less.
READ_TIMEOUT_S = 10.0
MAX_CONNECTIONS = 64


def api_gateway_event(
    method: str,
    target: str,
    headers: Iterable[tuple[str, str]],
    body: bytes,
    source_ip: str,
    request_id: str,
    time_epoch_ms: int,
) -> dict[str, Any]:
    """The payload v2.0 event API Gateway builds for this request: lower-case header names,
    repeated headers joined by commas, cookies apart, a text body as is, other bytes base64."""
    path, _, query = target.partition("?")
    joined: dict[str, str] = {}
    for name, value in headers:
        key = name.lower()
        joined[key] = f"{joined[key]},{value}" if key in joined else value
    cookies = joined.pop("cookie", None)
    try:
        text_body: str | None = body.decode("utf-8")
    except UnicodeDecodeError:
        text_body = None
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": joined,
        "requestContext": {
            "accountId": "local",
            "apiId": "local",
            "domainName": joined.get("host", "localhost"),
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": joined.get("user-agent", ""),
            },
            "requestId": request_id,
            "routeKey": "$default",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(time_epoch_ms / 1000)),
            "timeEpoch": time_epoch_ms,
        },
        "isBase64Encoded": text_body is None,
    }
    if cookies:
        event["cookies"] = [cookie.strip() for cookie in cookies.split(";")]
    if query:
        event["queryStringParameters"] = query_string_parameters(query)
    if body:
        event["body"] = text_body if text_body is not None else base64.b64encode(body).decode()
    return event


def query_string_parameters(query: str) -> dict[str, str]:
    """The query string as API Gateway hands it over: values decoded, a repeated name's
    values joined by commas, names without a value mapped to ''."""
    parameters: dict[str, str] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        parameters[name] = f"{parameters[name]},{value}" if name in parameters else value
    return parameters


def by_path(routes: Mapping[str, ApiHandler], default: ApiHandler) -> ApiHandler:
    """One handler serving several Lambdas: a request whose path is in `routes` goes to that
    Lambda's handler, every other request to `default` (which answers 404 for the unknown)."""

    def route(event: dict[str, Any], context: Any) -> Mapping[str, Any]:
        return routes.get(event["rawPath"], default)(event, context)

    return route


class CollectorServer(ThreadingHTTPServer):
    """An HTTP server that hands every request to an API Gateway v2.0 handler."""

    daemon_threads = True
    request_queue_size = 128  # the listen backlog, where connections over the cap wait

    def __init__(
        self,
        host: str,
        port: int,
        handler: ApiHandler,
        *,
        read_timeout_s: float = READ_TIMEOUT_S,
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:
        super().__init__((host, port), _RequestHandler)
        self.api_handler = handler
        self.handler_lock = threading.Lock()
        self.read_timeout_s = read_timeout_s
        self._slots = threading.BoundedSemaphore(max_connections)

    def process_request(self, request: Any, client_address: Any) -> None:
        """Serve the connection in a thread once a slot is free; until then, accept nothing
        more (the kernel queues further connections)."""
        self._slots.acquire()
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


class _RequestHandler(BaseHTTPRequestHandler):
    server: CollectorServer
    server_version = "ecom-collector"

    def setup(self) -> None:
        self.timeout = self.server.read_timeout_s  # applied to the socket by setup()
        super().setup()

    def _forward(self) -> None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self._reply_error(411, "length_required", "send a Content-Length")
            return
        length = int(self.headers.get("Content-Length") or 0)
        if length > API_GATEWAY_MAX_BODY_BYTES:
            self._reply_error(413, "payload_too_large", "the body is over API Gateway's 10 MB")
            return
        body = self.rfile.read(length) if length > 0 else b""
        event = api_gateway_event(
            self.command,
            self.path,
            self.headers.items(),
            body,
            self.client_address[0],
            str(uuid.uuid4()),
            int(time.time() * 1000),
        )
        try:
            with self.server.handler_lock:
                result = self.server.api_handler(event, None)
        except Exception:  # a failed invocation: API Gateway answers 500, the log has the cause
            logger.exception("the collector handler failed")
            self._reply_error(500, "internal_error", "Internal Server Error")
            return
        payload = result.get("body") or ""
        data = base64.b64decode(payload) if result.get("isBase64Encoded") else payload.encode()
        self.send_response(int(result["statusCode"]))
        for name, value in (result.get("headers") or {}).items():
            self.send_header(name, value)
        for name, values in (result.get("multiValueHeaders") or {}).items():
            for value in values:
                self.send_header(name, value)
        for cookie in result.get("cookies") or []:
            self.send_header("Set-Cookie", cookie)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _reply_error(self, status: int, error: str, message: str) -> None:
        data = f'{{"error":"{error}","message":"{message}"}}'.encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)
        self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the command prints its own summary."""

    def __getattr__(self, name: str) -> Any:
        """http.server calls do_<METHOD>: every method, standard or not, goes to the handler,
        which answers 404/405 for what it does not serve."""
        if name.startswith("do_"):
            return self._forward
        raise AttributeError(name)
