"""The CloudFormation custom-resource protocol, shared by the platform's custom-resource Lambdas.

A handler turns one request into an `Outcome`; this module sends the SUCCESS or FAILED response
to the pre-signed ResponseURL. Every failure must be reported: an unanswered request leaves
the stack waiting for an hour before CloudFormation gives up.
"""

from __future__ import annotations

import json
import logging
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

LOGGER = logging.getLogger(__name__)
# CloudFormation rejects responses over 4096 bytes; the reason is the only unbounded field.
MAX_REASON_CHARS = 1500


@dataclass(frozen=True)
class Outcome:
    """A handled request: the resource's physical id and the attributes for Fn::GetAtt."""

    physical_resource_id: str
    data: dict[str, str] = field(default_factory=dict)


Sender = Callable[[str, dict[str, Any]], None]


def put_response(response_url: str, body: dict[str, Any]) -> None:
    """PUT the response document to CloudFormation's pre-signed URL; a URL of any scheme but
    http(s), such as file:, is refused rather than opened."""
    if urllib.parse.urlsplit(response_url).scheme not in {"http", "https"}:
        raise ValueError(f"ResponseURL is not an http(s) URL: {response_url[:100]}")
    payload = json.dumps(body).encode()
    request = urllib.request.Request(  # noqa: S310 the scheme is checked above
        response_url,
        data=payload,
        method="PUT",
        # The pre-signed URL was signed with an empty content type.
        headers={"Content-Type": "", "Content-Length": str(len(payload))},
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 http(s) only
        response.read()


def respond(
    event: dict[str, Any],
    context: Any,
    handle: Callable[[dict[str, Any]], Outcome],
    send: Sender = put_response,
) -> dict[str, Any]:
    """Run `handle` for one request and report its outcome (or its error) to CloudFormation."""
    body: dict[str, Any] = {
        "StackId": event["StackId"],
        "RequestId": event["RequestId"],
        "LogicalResourceId": event["LogicalResourceId"],
    }
    try:
        outcome = handle(event)
        body |= {
            "Status": "SUCCESS",
            "PhysicalResourceId": outcome.physical_resource_id,
            "Data": outcome.data,
        }
    except Exception as error:  # any failure must reach CloudFormation with its reason
        LOGGER.exception("%s request failed", event.get("RequestType"))
        log_stream = getattr(context, "log_stream_name", "unknown")
        reason = f"{type(error).__name__}: {error} (log stream {log_stream})"
        body |= {
            "Status": "FAILED",
            "Reason": reason[:MAX_REASON_CHARS],
            # Keep an existing id so a failed update does not look like a replacement.
            "PhysicalResourceId": event.get("PhysicalResourceId") or event["LogicalResourceId"],
        }
    send(event["ResponseURL"], body)
    return body
