"""Validate events against the contract: the one validator every runtime uses.

The collector, the stream processor, the streaming jobs and the simulators all call
`validate_event` / `parse_event`, so an event is accepted or rejected the same way
everywhere. The schema files are compiled once at import with jsonschema-rs (JSON Schema
2020-12 in native code: about a hundred times the speed of the pure-Python jsonschema package,
which cannot keep up with the stream). Rules JSON Schema cannot state, the order amounts
adding up, are checked here in Python and reported in the same "path: message" form.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

import jsonschema_rs
import orjson

from contracts.events.loader import ENVELOPE, event_types, load_schemas

MAX_EVENT_BYTES = 32_768
# Amounts carry at most 2 decimals, so a difference of half a cent is a real mismatch.
_AMOUNT_TOLERANCE = Decimal("0.005")
_MAX_MESSAGE_CHARS = 240
_PREVIEW_CHARS = 40
_OVERFLOW = "is too large for a number (beyond the range of a double)"
# A JSON number as RFC 8259 writes it, to read the one a decode error points at.
_JSON_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")


def _is_real_calendar_time(value: str) -> bool:
    """The date-time format: a time Python can represent (RFC 3339 alone allows leap seconds
    and year 0, which every Python consumer would then fail to parse). The schema's pattern
    already fixes the shape: UTC with a Z suffix."""
    try:
        dt.datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _compile() -> jsonschema_rs.Validator:
    schemas = load_schemas()
    registry = jsonschema_rs.Registry([(schema["$id"], schema) for schema in schemas.values()])
    return jsonschema_rs.Draft202012Validator(
        schemas[ENVELOPE],
        registry=registry,
        validate_formats=True,
        formats={"date-time": _is_real_calendar_time},
    )


_VALIDATOR = _compile()
_ENVELOPE_RULES: list[dict[str, Any]] = load_schemas()[ENVELOPE]["allOf"]
_KNOWN_TYPES = ", ".join(event_types())


def validate_event(event: object) -> list[str]:
    """Reasons the event breaks the contract, each starting with the JSON path it concerns;
    an empty list means valid. Never raises, whatever it is given."""
    try:
        if _VALIDATOR.is_valid(event):
            return _cross_field_reasons(event)
        errors = list(_VALIDATOR.iter_errors(event))
    except ValueError as exc:  # not JSON-shaped: a set, bytes, a non-str key, nesting past 254
        return [f"event: cannot be validated ({exc})"]
    reasons: dict[str, str] = {}
    for error in errors:
        for path, message in _describe(error):
            # One reason per path: a value failing several keywords is one mistake.
            reasons.setdefault(path, f"{path}: {message}")
    return list(reasons.values())


def parse_event(raw: bytes | str) -> tuple[dict[str, Any] | None, list[str]]:
    """Decode one serialized event and validate it: (event, []) when valid, else
    (the decoded event or None when it is not a JSON object, reasons)."""
    if isinstance(raw, str):
        try:
            raw = raw.encode("utf-8")
        except UnicodeEncodeError as exc:
            return None, [f"payload: is not valid UTF-8 ({exc.reason} at character {exc.start})"]
    if len(raw) > MAX_EVENT_BYTES:
        return None, [_oversize(raw)]
    try:
        decoded = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return None, [_decode_failure(raw, exc)]
    return (decoded if isinstance(decoded, dict) else None), validate_decoded(decoded, raw)


def validate_decoded(decoded: object, raw: bytes) -> list[str]:
    """What parse_event(raw) says of `raw` when `decoded` is already its decoded value: the
    collector decodes a whole request at once and need not decode each event again."""
    if len(raw) > MAX_EVENT_BYTES:
        return [_oversize(raw)]
    if not isinstance(decoded, dict):
        return [f"payload: is a JSON {_json_kind(decoded)}, not an object"]
    return validate_event(decoded)


def _oversize(raw: bytes) -> str:
    return f"payload: {len(raw)} bytes is over the limit of {MAX_EVENT_BYTES} bytes"


def is_too_large_number(text: str) -> bool:
    """Whether a JSON number is past the range of a double (1e400): JSON's grammar allows it,
    but no consumer reads it back (orjson refuses it, the standard parser makes it infinity)."""
    return math.isinf(float(text))


def number_overflow_reason(path: Sequence[str | int], number: str) -> str:
    """The reason for a number past the range of a double, named as it was sent."""
    return f"{_path(path)}: {_number_preview(number)} {_OVERFLOW}"


def _decode_failure(raw: bytes, exc: orjson.JSONDecodeError) -> str:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as utf8_error:
        return f"payload: is not valid UTF-8 ({utf8_error.reason} at byte {utf8_error.start})"
    number = _JSON_NUMBER.match(text, exc.pos)
    if number and is_too_large_number(number.group()):
        where = f"at line {exc.lineno} column {exc.colno}"
        return f"payload: {_number_preview(number.group())} {where} {_OVERFLOW}"
    return f"payload: is not valid JSON ({exc})"


def _number_preview(number: str) -> str:
    if len(number) <= _PREVIEW_CHARS:
        return number
    return f"{number[: _PREVIEW_CHARS - 1]}… ({len(number)} characters)"


def _json_kind(value: object) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    return "null" if value is None else "number"


def _describe(error: jsonschema_rs.ValidationError) -> Iterator[tuple[str, str]]:
    """(path, message) pairs for one engine error, worded so the reader sees which field
    to fix: a missing or unexpected property is named in the path itself."""
    kind = error.kind
    at = error.instance_path
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.Required):
        yield _path([*at, kind.property]), "required property is missing"
    elif isinstance(kind, jsonschema_rs.ValidationErrorKind.AdditionalProperties):
        for name in kind.unexpected:
            yield _path([*at, name]), "is not part of the contract (unexpected property)"
    elif isinstance(kind, jsonschema_rs.ValidationErrorKind.Enum):
        shown = _preview(error.instance)
        if at == ["event_type"]:
            yield "event_type", f"{shown} is not a known event type (known: {_KNOWN_TYPES})"
        else:
            yield _path(at), f"{shown} is not one of {', '.join(map(_preview, kind.options))}"
    else:
        message = error.message
        if len(message) > _MAX_MESSAGE_CHARS:  # the engine quotes the whole value
            rule = ", ".join(f"{key} {value}" for key, value in kind.as_dict().items())
            message = f"{_preview(error.instance)} breaks {kind.name} ({rule})"
        yield _path(at), message + _rule_note(error.schema_path)


def _rule_note(schema_path: Sequence[str | int]) -> str:
    """The description of the envelope rule (allOf entry) an error came from, if it has one:
    'user_id: null is not of type "integer"' alone would not say why null is wrong here."""
    if len(schema_path) > 2 and schema_path[0] == "allOf" and schema_path[2] == "then":
        index = schema_path[1]
        if isinstance(index, int) and index < len(_ENVELOPE_RULES):
            description = _ENVELOPE_RULES[index].get("description")
            if description:
                return f" ({description.rstrip('.')})"
    return ""


def _path(parts: Sequence[str | int]) -> str:
    """JSON path as reasons show it: properties.items[0].quantity; the whole event is 'event'."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text or "event"


def _preview(value: object) -> str:
    """A short JSON rendering of a value for a reason; containers are only named."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    text = json.dumps(value, ensure_ascii=False)
    if len(text) <= _PREVIEW_CHARS:
        return text
    return f"{text[: _PREVIEW_CHARS - 1]}… ({len(text)} characters)"


def _cross_field_reasons(event: Any) -> list[str]:
    """Rules across fields of an event that already matches its schema."""
    if event["event_type"] == "order_completed":
        return _order_amount_reasons(event["properties"])
    return []


def _order_amount_reasons(properties: dict[str, Any]) -> list[str]:
    """Order arithmetic, in exact decimals: each line_total = quantity × unit_price and
    total = subtotal - discount + shipping + tax, within half a cent."""
    reasons = []
    for index, line in enumerate(properties["items"]):
        expected = _decimal(line["quantity"]) * _decimal(line["unit_price"])
        if abs(_decimal(line["line_total"]) - expected) > _AMOUNT_TOLERANCE:
            reasons.append(
                f"properties.items[{index}].line_total: {_preview(line['line_total'])} is not "
                f"quantity × unit_price = {expected:f}"
            )
    subtotal, discount, shipping, tax, total = (
        _decimal(properties[name]) for name in ("subtotal", "discount", "shipping", "tax", "total")
    )
    expected_total = subtotal - discount + shipping + tax
    if abs(total - expected_total) > _AMOUNT_TOLERANCE:
        reasons.append(
            f"properties.total: {_preview(properties['total'])} is not "
            f"subtotal - discount + shipping + tax = {expected_total:f}"
        )
    return reasons


def _decimal(number: float) -> Decimal:
    """The decimal the JSON text said: repr gives the shortest form that reads back the same."""
    return Decimal(repr(number))
