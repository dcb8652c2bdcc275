"""A JSON number past the range of a double (1e400): valid JSON, but no consumer reads it back.

The collector and the stream processor reject the event with a reason that names the number
and keep the number as it was sent in the dead letter's payload.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest
from stream_events import START, Visitor, make_event

from contracts.events import parse_event
from lambdas.collector.batch import RequestContext, Topics, read_events, triage
from lambdas.stream_processor.dead_letters import dead_letter, dead_letter_message
from lambdas.stream_processor.records import SourceRecord

TOPICS = Topics(events="events.v1", dead_letters="events.dlq")
CONTEXT = RequestContext("req-1", datetime(2026, 10, 1, 12, 0, tzinfo=UTC))
# A contract-valid product view; the cases write one of its numbers past a double.
PRODUCT_VIEW = make_event(
    "product_viewed",
    START,
    Visitor(
        session_id="12524fb6-903f-41e1-b01e-509ee3d90595",
        anonymous_id="81d58e19-4556-489f-95f7-0c4b6a086b19",
        user_id=17,
    ),
    {"product_id": 8, "category_id": 2, "price": 19.5, "currency": "USD"},
    event_id="05de57c4-21d1-4992-9143-8f35c05d3028",
)
OVERFLOW = "is too large for a number (beyond the range of a double)"


def _with_number(section: str | None, field: str, number: str) -> bytes:
    """The event as compact JSON with `number` written as is in place of the field's value."""
    event = json.loads(json.dumps(PRODUCT_VIEW))
    (event[section] if section else event)[field] = "NUMBER"
    return json.dumps(event, separators=(",", ":")).encode().replace(b'"NUMBER"', number.encode())


CASES = [
    (None, "user_id", "1e400", "user_id: 1e400"),
    ("properties", "price", "-1.5E+400", "properties.price: -1.5E+400"),
    ("properties", "product_id", "1" * 400, f"properties.product_id: {'1' * 39}… (400 characters)"),
]


@pytest.mark.parametrize(("section", "field", "number", "named"), CASES)
def test_collector_names_the_overflow_and_keeps_the_number_as_sent(
    section: str | None, field: str, number: str, named: str
) -> None:
    body = _with_number(section, field, number)

    results, records = triage(read_events(body, "application/json"), TOPICS, CONTEXT)

    assert results[0].reasons == (f"{named} {OVERFLOW}",)
    letter = json.loads(records[0].value)
    assert (records[0].topic, letter["reasons"]) == (TOPICS.dead_letters, [f"{named} {OVERFLOW}"])
    assert base64.b64decode(letter["payload_base64"]) == body


def test_collector_rejects_only_the_event_with_the_overflow() -> None:
    body = b"[" + _with_number(None, "user_id", "1e400") + b"," + json.dumps(PRODUCT_VIEW).encode()
    body += b"]"

    results, records = triage(read_events(body, "application/json"), TOPICS, CONTEXT)

    assert [r.status for r in results] == ["rejected", "accepted"]
    assert [r.topic for r in records] == [TOPICS.dead_letters, TOPICS.events]


@pytest.mark.parametrize(("section", "field", "number", "named"), CASES)
def test_stream_processor_names_the_overflow_and_keeps_the_bytes(
    section: str | None, field: str, number: str, named: str
) -> None:
    body = _with_number(section, field, number)
    column = body.index(number.encode()) + 1
    shown = named.split(": ", 1)[1]

    event, reasons = parse_event(body)

    assert (event, reasons) == (None, [f"payload: {shown} at line 1 column {column} {OVERFLOW}"])
    letter = json.loads(
        dead_letter_message(dead_letter(SourceRecord("t", 0, 5, 0, None, body), reasons))
    )
    assert base64.b64decode(letter["payload_base64"]) == body
    assert letter["reasons"] == reasons
