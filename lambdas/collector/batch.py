"""What the collector does with one request body, as plain functions over bytes and dicts.

A body is one event, a JSON array of events, or {"events": [...]}. Limits that make the whole
request unusable (media type, size, count, JSON syntax) reject it with a 4xx and publish
nothing. Otherwise every event is judged on its own by the contract (the verdict
`parse_event` gives its serialized bytes, without decoding them again): a valid event becomes
a record for the events topic, an invalid one a dead letter (its reasons and the payload as
received) for the dead-letter topic, and the response reports each by its index.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, NamedTuple

import orjson

from contracts.events import is_too_large_number, number_overflow_reason, validate_decoded
from lambdas.shared.kafka_producer import event_key

MAX_BATCH_EVENTS = 500
MAX_BODY_BYTES = 1_048_576  # 1 MiB
JSON_MEDIA_TYPE = "application/json"
STAGE = "collector"
# A dead letter must fit in a Kafka record (1 MiB by default) even for a 1 MiB event.
MAX_DEAD_LETTER_PAYLOAD_BYTES = 65_536
_MAX_ID_CHARS = 200


class RequestRejectedError(Exception):
    """The request as a whole cannot be taken; `status` is the HTTP status to answer with."""

    def __init__(
        self, status: int, error: str, message: str, event_ids: Sequence[str | None] = ()
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message
        self.event_ids = event_ids  # of the events read before the refusal, when any were


@dataclass(frozen=True)
class Topics:
    events: str
    dead_letters: str


# Named tuples rather than frozen dataclasses: one of each is built per event, and a frozen
# dataclass costs several times more to construct.
class KafkaRecord(NamedTuple):
    topic: str
    key: bytes | None
    value: bytes


class EventResult(NamedTuple):
    index: int
    event_id: str | None
    status: Literal["accepted", "rejected"]
    reasons: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "index": self.index,
            "event_id": self.event_id,
            "status": self.status,
        }
        if self.reasons:
            result["reasons"] = list(self.reasons)
        return result


@dataclass(frozen=True)
class RequestContext:
    """Where a request came from, for dead letters: enough to find it in the access logs."""

    request_id: str
    received_at: datetime


def read_events(body: bytes, content_type: str | None) -> list[Any]:
    """The events of a request body, unjudged; raises RequestRejectedError for a body that is not
    a JSON event, array of events or {"events": [...]} within the limits."""
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type != JSON_MEDIA_TYPE:
        raise RequestRejectedError(
            415,
            "unsupported_media_type",
            f"send events as {JSON_MEDIA_TYPE}, not {media_type or 'an unlabelled body'}",
        )
    if len(body) > MAX_BODY_BYTES:
        raise RequestRejectedError(
            413,
            "payload_too_large",
            f"the body is {len(body):,} bytes; the limit is {MAX_BODY_BYTES:,} bytes",
        )
    decoded = _decode_json(body)
    if isinstance(decoded, dict) and "events" in decoded:
        if set(decoded) != {"events"}:
            extra = ", ".join(sorted(set(decoded) - {"events"}))
            raise RequestRejectedError(
                400, "malformed_body", f"a batch object has only the key 'events' (not {extra})"
            )
        events = decoded["events"]
        if not isinstance(events, list):
            raise RequestRejectedError(400, "malformed_body", "'events' must be an array of events")
    elif isinstance(decoded, list):
        events = decoded
    elif isinstance(decoded, dict):
        return [decoded]
    else:
        raise RequestRejectedError(
            400, "malformed_body", "the body must be an event object or an array of events"
        )
    if not events:
        raise RequestRejectedError(400, "malformed_body", "the batch holds no events")
    if len(events) > MAX_BATCH_EVENTS:
        raise RequestRejectedError(
            413,
            "too_many_events",
            f"the batch holds {len(events):,} events; the limit is {MAX_BATCH_EVENTS}",
            [event_id_of(event) for event in events],
        )
    return events


def _decode_json(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        pass
    # orjson refuses unpaired surrogate escapes ("\ud800") and numbers past a double (1e400),
    # which JSON's grammar allows: the standard parser decides, so one such event is rejected
    # on its own, not the whole batch.
    try:
        return json.loads(
            body.decode("utf-8"),
            parse_constant=_reject_constant,
            parse_float=_parse_float,
            parse_int=_parse_int,
        )
    except UnicodeDecodeError as error:
        message = f"the body is not valid UTF-8 ({error.reason} at byte {error.start})"
    except (ValueError, RecursionError) as error:
        message = f"the body is not valid JSON ({error})"
    raise RequestRejectedError(400, "malformed_body", message)


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


class _TooLargeNumber:
    """A number past the range of a double, kept as the text sent: the standard parser would
    make it infinity, which the validator and the serializer both see as null."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def _parse_float(text: str) -> float | _TooLargeNumber:
    return _TooLargeNumber(text) if is_too_large_number(text) else float(text)


def _parse_int(text: str) -> int | _TooLargeNumber:
    return _TooLargeNumber(text) if is_too_large_number(text) else int(text)


def triage(
    events: Sequence[Any], topics: Topics, context: RequestContext
) -> tuple[list[EventResult], list[KafkaRecord]]:
    """Judge each event: (one result per event, in order; the records to publish, in order)."""
    results: list[EventResult] = []
    records: list[KafkaRecord] = []
    for index, event in enumerate(events):
        value, reasons = _serialize(event)
        if not reasons:
            reasons = validate_decoded(event, value)
        event_id = event_id_of(event)
        if reasons:
            results.append(EventResult(index, event_id, "rejected", tuple(reasons)))
            letter = dead_letter_message(event, value, reasons, index, context)
            records.append(KafkaRecord(topics.dead_letters, event_key(event), letter))
        else:
            results.append(EventResult(index, event_id, "accepted"))
            records.append(KafkaRecord(topics.events, event_key(event), value))
    return results, records


def event_id_of(event: Any) -> str | None:
    """The event's id as the response reports it: its string event_id, else null."""
    return _short_text(event.get("event_id")) if isinstance(event, dict) else None


def _serialize(event: Any) -> tuple[bytes, list[str]]:
    """The event as compact JSON bytes, and reasons when consumers could not read it back."""
    try:
        return orjson.dumps(event), []
    except orjson.JSONEncodeError:
        pass
    # Only what the standard parser admits and orjson does not gets here: numbers past a
    # double, written back as sent, and unpaired surrogates (escaped ASCII JSON).
    reasons = [number_overflow_reason(path, number.text) for path, number in _too_large(event)]
    try:
        return orjson.dumps(event, default=_number_as_sent), reasons
    except orjson.JSONEncodeError as error:
        text = json.dumps(event, separators=(",", ":"), default=lambda number: number.text)
        reason = f"event: cannot be stored as JSON consumers read ({error})"
        return text.encode("ascii"), [*reasons, reason]


def _number_as_sent(value: object) -> orjson.Fragment:
    if isinstance(value, _TooLargeNumber):
        return orjson.Fragment(value.text)
    raise TypeError


def _too_large(
    value: Any, path: tuple[str | int, ...] = ()
) -> Iterator[tuple[tuple, _TooLargeNumber]]:
    """Each number past a double in a decoded event, with its path."""
    if isinstance(value, _TooLargeNumber):
        yield path, value
    elif isinstance(value, dict):
        for key, child in value.items():
            yield from _too_large(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _too_large(child, (*path, index))


def dead_letter_message(
    event: Any, value: bytes, reasons: Sequence[str], index: int, context: RequestContext
) -> bytes:
    """The dead-letter record: the same top-level fields as the stream processor's, with the
    request as its source. The payload is base64 of the event's JSON, cut to a size a
    Kafka record can hold (payload_bytes keeps the full size)."""
    identity = event if isinstance(event, dict) else {}
    payload = value[:MAX_DEAD_LETTER_PAYLOAD_BYTES]
    return orjson.dumps(
        {
            "stage": STAGE,
            "reasons": list(reasons),
            "failed_at": context.received_at.isoformat(timespec="milliseconds").replace(
                "+00:00", "Z"
            ),
            "event_id": _short_text(identity.get("event_id")),
            "event_type": _short_text(identity.get("event_type")),
            "source": {"request_id": context.request_id, "index": index},
            "payload_base64": base64.b64encode(payload).decode("ascii"),
            "payload_bytes": len(value),
            "payload_truncated": len(payload) < len(value),
        }
    )


def response_body(results: Sequence[EventResult]) -> dict[str, Any]:
    accepted = sum(result.status == "accepted" for result in results)
    return {
        "accepted": accepted,
        "rejected": len(results) - accepted,
        "results": [result.as_dict() for result in results],
    }


def _short_text(value: object) -> str | None:
    """An id as the payload shows it, bounded and made encodable for the response and logs."""
    if not isinstance(value, str):
        return None
    return value[:_MAX_ID_CHARS].encode("utf-8", "replace").decode("utf-8")
