"""The event contract: schema files, validator, reasons and generated docs.

Expected values come from the written spec (the agreed event contract), not from the code:
the list of event types, the reasons' wording for each rule, and a hypothesis strategy that
builds valid events from the spec independently of the schema files.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Callable, Iterator
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from contracts.events import (
    EVENT_TYPES,
    MAX_EVENT_BYTES,
    SCHEMA_VERSION,
    parse_event,
    validate_decoded,
    validate_event,
)
from contracts.events.docs import DOCS_PATH, render_markdown
from contracts.events.loader import SCHEMA_DIR, load_schemas

SPEC_EVENT_TYPES = (
    "session_started",
    "page_viewed",
    "product_searched",
    "product_viewed",
    "product_added_to_cart",
    "product_removed_from_cart",
    "cart_viewed",
    "checkout_started",
    "payment_info_entered",
    "order_completed",
    "order_refunded",
    "support_ticket_opened",
)
USER_REQUIRED_TYPES = {"order_completed", "order_refunded", "support_ticket_opened"}


def example(event_type: str) -> dict[str, Any]:
    """A fresh copy of the schema's example event, safe to break."""
    return copy.deepcopy(load_schemas()[event_type]["examples"][0])


# --- the schema files ------------------------------------------------------------------------


def test_event_types_and_version_match_the_spec() -> None:
    assert EVENT_TYPES == SPEC_EVENT_TYPES
    assert SCHEMA_VERSION == "1.0"
    assert MAX_EVENT_BYTES == 32768
    files = sorted(path.name for path in SCHEMA_DIR.glob("*.json"))
    expected = sorted(
        [f"{name}.schema.json" for name in SPEC_EVENT_TYPES] + ["envelope.schema.json"]
    )
    assert files == expected


@pytest.mark.parametrize("name", ["envelope", *SPEC_EVENT_TYPES])
def test_schema_files_are_valid_draft_2020_12(name: str) -> None:
    schema = load_schemas()[name]
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"].endswith(f"/{name}.schema.json")
    assert schema["description"]
    Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("event_type", SPEC_EVENT_TYPES)
def test_every_example_is_a_valid_event_of_its_type(event_type: str) -> None:
    examples = load_schemas()[event_type]["examples"]
    assert len(examples) == 1
    event = examples[0]
    assert event["event_type"] == event_type
    assert event["schema_version"] == SCHEMA_VERSION
    assert validate_event(event) == []
    assert parse_event(orjson.dumps(event)) == (event, [])


def test_order_example_amounts_add_up_by_hand() -> None:
    properties = example("order_completed")["properties"]
    # 2 × 24.99 = 49.98; 1 × 89.50 = 89.50; 139.48 - 10.00 + 4.99 + 10.36 = 144.83
    assert [line["line_total"] for line in properties["items"]] == [49.98, 89.5]
    assert (properties["subtotal"], properties["total"]) == (139.48, 144.83)


# --- rejected events name the field and the rule ------------------------------------------------


def _set(path: str, value: object) -> Callable[[dict[str, Any]], None]:
    """A mutation that sets a dotted path (list indices as numbers) to value."""

    def mutate(event: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = event
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[int(last) if last.isdigit() else last] = value

    return mutate


def _delete(key: str) -> Callable[[dict[str, Any]], None]:
    def mutate(event: dict[str, Any]) -> None:
        del event[key]

    return mutate


KNOWN = ", ".join(SPEC_EVENT_TYPES)
UUID_PATTERN = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"

REJECTIONS = [
    # (case, event type of the example to break, mutation, the one expected reason)
    (
        "missing event_id",
        "page_viewed",
        _delete("event_id"),
        "event_id: required property is missing",
    ),
    (
        "bad uuid",
        "page_viewed",
        _set("event_id", "not-a-uuid"),
        f'event_id: "not-a-uuid" does not match "{UUID_PATTERN}"',
    ),
    (
        "upper-case uuid",
        "page_viewed",
        _set("session_id", "12524FB6-903F-41E1-B01E-509EE3D90595"),
        f'session_id: "12524FB6-903F-41E1-B01E-509EE3D90595" does not match "{UUID_PATTERN}"',
    ),
    (
        "uuid with a trailing newline",
        "product_added_to_cart",
        _set("properties.cart_id", "35a33b1e-e878-4651-bd8e-093180af8bc7\n"),
        'properties.cart_id: "35a33b1e-e878-4651-bd8e-093180af8bc7\\n" does not match '
        f'"{UUID_PATTERN}"',
    ),
    (
        "occurred_at with an offset instead of Z",
        "page_viewed",
        _set("occurred_at", "2026-10-01T12:30:02+00:00"),
        'occurred_at: "2026-10-01T12:30:02+00:00" does not match '
        '"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?Z$"',
    ),
    (
        "occurred_at on a day that does not exist",
        "page_viewed",
        _set("occurred_at", "2026-02-30T12:00:00Z"),
        'occurred_at: "2026-02-30T12:00:00Z" is not a "date-time"',
    ),
    (
        "occurred_at on a leap second",
        "page_viewed",
        _set("occurred_at", "2026-12-31T23:59:60Z"),
        'occurred_at: "2026-12-31T23:59:60Z" is not a "date-time"',
    ),
    (
        "unknown event type",
        "page_viewed",
        _set("event_type", "foo"),
        f'event_type: "foo" is not a known event type (known: {KNOWN})',
    ),
    (
        "negative quantity",
        "product_added_to_cart",
        _set("properties.quantity", -1),
        "properties.quantity: -1 is less than the minimum of 1",
    ),
    (
        "negative quantity in an order line",
        "order_completed",
        _set("properties.items.0.quantity", -1),
        "properties.items[0].quantity: -1 is less than the minimum of 1",
    ),
    (
        "quantity as a string",
        "product_added_to_cart",
        _set("properties.quantity", "2"),
        'properties.quantity: "2" is not of type "integer"',
    ),
    (
        "quantity as a boolean",
        "product_removed_from_cart",
        _set("properties.quantity", True),
        'properties.quantity: true is not of type "integer"',
    ),
    (
        "user_id as a string",
        "page_viewed",
        _set("user_id", "4821"),
        'user_id: "4821" is not of types "null", "integer"',
    ),
    (
        "user_id zero",
        "product_added_to_cart",
        _set("user_id", 0),
        "user_id: 0 is less than the minimum of 1",
    ),
    (
        "anonymous order",
        "order_completed",
        _set("user_id", None),
        'user_id: null is not of type "integer" (order_completed, order_refunded and '
        "support_ticket_opened events always belong to a signed-in user)",
    ),
    (
        "anonymous support ticket",
        "support_ticket_opened",
        _set("user_id", None),
        'user_id: null is not of type "integer" (order_completed, order_refunded and '
        "support_ticket_opened events always belong to a signed-in user)",
    ),
    (
        "extra envelope property",
        "page_viewed",
        _set("ip_address", "10.0.0.1"),
        "ip_address: is not part of the contract (unexpected property)",
    ),
    (
        "extra property in properties",
        "product_viewed",
        _set("properties.discount_code", "AUTUMN"),
        "properties.discount_code: is not part of the contract (unexpected property)",
    ),
    (
        "extra property in an order line",
        "order_completed",
        _set("properties.items.1.gift_wrap", True),
        "properties.items[1].gift_wrap: is not part of the contract (unexpected property)",
    ),
    (
        "extra property in context.device",
        "page_viewed",
        _set("context.device.model", "X1"),
        "context.device.model: is not part of the contract (unexpected property)",
    ),
    (
        "unknown channel",
        "page_viewed",
        _set("context.channel", "kiosk"),
        'context.channel: "kiosk" is not one of "web", "mobile_app"',
    ),
    (
        "page path without a leading slash",
        "page_viewed",
        _set("context.page.path", "c/running-shoes"),
        'context.page.path: "c/running-shoes" does not match "^/"',
    ),
    (
        "price with three decimals",
        "product_viewed",
        _set("properties.price", 24.999),
        "properties.price: 24.999 is not a multiple of 0.01",
    ),
    (
        "negative price",
        "product_viewed",
        _set("properties.price", -0.01),
        "properties.price: -0.01 is less than the minimum of 0",
    ),
    (
        "lower-case currency",
        "product_viewed",
        _set("properties.currency", "usd"),
        'properties.currency: "usd" does not match "^[A-Z]{3}$"',
    ),
    (
        "zero refund",
        "order_refunded",
        _set("properties.refund_amount", 0),
        "properties.refund_amount: 0 is less than or equal to the minimum of 0",
    ),
    (
        "empty search query",
        "product_searched",
        _set("properties.query", ""),
        'properties.query: "" is shorter than 1 character',
    ),
    (
        "unsupported schema version",
        "page_viewed",
        _set("schema_version", "2.0"),
        'schema_version: "2.0" does not match "^1\\.[0-9]+$"',
    ),
    (
        "order total that does not add up",
        "order_completed",
        _set("properties.total", 150.0),
        "properties.total: 150.0 is not subtotal - discount + shipping + tax = 144.83",
    ),
    (
        "order line total that does not add up",
        "order_completed",
        _set("properties.items.0.line_total", 49.99),
        "properties.items[0].line_total: 49.99 is not quantity × unit_price = 49.98",
    ),
]


@pytest.mark.parametrize(
    ("event_type", "mutate", "expected"),
    [pytest.param(*case[1:], id=case[0]) for case in REJECTIONS],
)
def test_malformed_event_is_rejected_with_a_reason_naming_the_field(
    event_type: str, mutate: Callable[[dict[str, Any]], None], expected: str
) -> None:
    event = example(event_type)
    mutate(event)
    assert validate_event(event) == [expected]
    assert parse_event(orjson.dumps(event)) == (event, [expected])


def test_every_problem_in_an_event_is_reported_once() -> None:
    event = example("order_completed")
    del event["event_id"]
    event["properties"]["items"][0]["quantity"] = 0
    event["properties"]["currency"] = "EURO"
    event["properties"]["note"] = "leave at the door"
    assert sorted(validate_event(event)) == [
        "event_id: required property is missing",
        'properties.currency: "EURO" does not match "^[A-Z]{3}$"',
        "properties.items[0].quantity: 0 is less than the minimum of 1",
        "properties.note: is not part of the contract (unexpected property)",
    ]


def test_properties_are_checked_against_the_schema_of_the_event_type() -> None:
    event = example("page_viewed")
    event["properties"] = example("product_viewed")["properties"]
    assert sorted(validate_event(event)) == [
        "properties.category_id: is not part of the contract (unexpected property)",
        "properties.currency: is not part of the contract (unexpected property)",
        "properties.page_type: required property is missing",
        "properties.path: required property is missing",
        "properties.price: is not part of the contract (unexpected property)",
        "properties.product_id: is not part of the contract (unexpected property)",
    ]


@pytest.mark.parametrize("event_type", SPEC_EVENT_TYPES)
def test_every_event_type_checks_its_properties(event_type: str) -> None:
    event = example(event_type)
    required = sorted(event["properties"])  # the spec makes every listed key required
    event["properties"] = {}
    assert sorted(validate_event(event)) == [
        f"properties.{key}: required property is missing" for key in required
    ]


@pytest.mark.parametrize(
    ("event_type", "mutate"),
    [
        pytest.param("page_viewed", _set("schema_version", "1.7"), id="later minor version"),
        pytest.param("page_viewed", _set("context.page", None), id="no page"),
        pytest.param("product_viewed", _set("properties.price", 0.07), id="price 0.07"),
        pytest.param(
            "product_searched", _set("properties.query", "é" * 200), id="200-character query"
        ),
        pytest.param(
            "page_viewed", _set("occurred_at", "2024-02-29T23:59:59.999999Z"), id="leap day"
        ),
        pytest.param("support_ticket_opened", _set("properties.order_id", None), id="no order"),
        pytest.param("product_added_to_cart", _set("properties.quantity", 2.0), id="2.0 units"),
    ],
)
def test_edge_values_the_contract_allows_are_accepted(
    event_type: str, mutate: Callable[[dict[str, Any]], None]
) -> None:
    event = example(event_type)
    mutate(event)
    assert validate_event(event) == []


def test_order_amounts_are_compared_as_decimals_not_binary_floats() -> None:
    event = example("order_completed")
    properties = event["properties"]
    # 0.1 + 0.2 is 0.30000000000000004 in binary floats; the decimals add up exactly.
    properties["items"] = [
        {"product_id": 1, "quantity": 1, "unit_price": 0.1, "line_total": 0.1},
        {"product_id": 2, "quantity": 3, "unit_price": 0.1, "line_total": 0.3},
    ]
    properties.update(subtotal=0.4, discount=0.0, shipping=0.1, tax=0.2, total=0.7)
    assert validate_event(event) == []


@pytest.mark.parametrize("count", [0, 101])
def test_order_line_count_is_bounded(count: int) -> None:
    event = example("order_completed")
    event["properties"]["items"] = event["properties"]["items"][:1] * count
    reasons = validate_event(event)
    assert len(reasons) == 1
    assert reasons[0].startswith("properties.items: ")


def test_a_python_value_json_cannot_hold_is_a_reason_not_an_exception() -> None:
    event = example("page_viewed")
    event["context"]["device"]["os"] = {"macOS", "iOS"}
    (reason,) = validate_event(event)
    assert reason.startswith("event: cannot be validated (")


@pytest.mark.parametrize(
    ("value", "expected"),
    [(42, 'event: 42 is not of type "object"'), ([], 'event: [] is not of type "object"')],
)
def test_a_non_object_event_is_rejected(value: object, expected: str) -> None:
    assert validate_event(value) == [expected]


# --- parse_event: the raw payload ------------------------------------------------------------


def test_payload_of_exactly_the_limit_is_read_and_one_byte_more_is_not() -> None:
    event = example("page_viewed")
    body = orjson.dumps(event)
    at_limit = body + b" " * (MAX_EVENT_BYTES - len(body))
    assert parse_event(at_limit) == (event, [])
    assert parse_event(at_limit + b" ") == (
        None,
        [f"payload: {MAX_EVENT_BYTES + 1} bytes is over the limit of {MAX_EVENT_BYTES} bytes"],
    )


def test_payload_limit_counts_utf8_bytes_not_characters() -> None:
    event = example("page_viewed")
    event["context"]["page"]["title"] = "é" * 17_000  # 17,000 characters, 34,000 bytes
    text = json.dumps(event, ensure_ascii=False)
    assert len(text) < MAX_EVENT_BYTES
    decoded, reasons = parse_event(text)
    assert decoded is None
    assert reasons == [
        f"payload: {len(text.encode())} bytes is over the limit of {MAX_EVENT_BYTES} bytes"
    ]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param(b"[1, 2]", "payload: is a JSON array, not an object", id="array"),
        pytest.param(b'"event"', "payload: is a JSON string, not an object", id="string"),
        pytest.param(b"12.5", "payload: is a JSON number, not an object", id="number"),
        pytest.param(b"true", "payload: is a JSON boolean, not an object", id="boolean"),
        pytest.param(b"null", "payload: is a JSON null, not an object", id="null"),
        pytest.param(
            b'{"event_id": "\xff"}',
            "payload: is not valid UTF-8 (invalid start byte at byte 14)",
            id="bad utf-8",
        ),
        pytest.param(
            '{"event_id": "\ud800"}',
            "payload: is not valid UTF-8 (surrogates not allowed at character 14)",
            id="lone surrogate in str",
        ),
    ],
)
def test_payload_that_is_not_an_event_object(raw: bytes | str, expected: str) -> None:
    assert parse_event(raw) == (None, [expected])


@pytest.mark.parametrize(
    "raw", [b'{"event_id": ', b"{'event_id': 1}", b"", b'{"a": NaN}', b'{"a": 1} {"b": 2}']
)
def test_payload_that_is_not_json(raw: bytes) -> None:
    decoded, reasons = parse_event(raw)
    assert decoded is None
    assert len(reasons) == 1
    assert reasons[0].startswith("payload: is not valid JSON (")


def test_payload_as_str_or_bytes_reads_the_same() -> None:
    event = example("order_refunded")
    text = json.dumps(event)
    assert parse_event(text) == parse_event(text.encode()) == (event, [])


# --- property-based: a second, independent statement of the contract --------------------------

UUIDS = st.uuids().map(str)
ROW_IDS = st.integers(min_value=1, max_value=2**63 - 1)
CENTS = st.integers(min_value=0, max_value=10**11)
MONEY = CENTS.map(lambda cents: cents / 100)
CURRENCIES = st.from_regex(r"\A[A-Z]{3}\Z")
PATHS = st.text(max_size=30).map(lambda rest: "/" + rest)
OPTIONAL_TEXT = st.none() | st.text(max_size=30)
PAGE_TYPES = (
    "home",
    "category",
    "product",
    "search",
    "cart",
    "checkout",
    "account",
    "help",
    "other",
)
PAYMENT_METHODS = st.sampled_from(["card", "paypal", "apple_pay", "google_pay", "gift_card"])


def _occurred_at(moment: dt.datetime, timespec: str) -> str:
    return moment.isoformat(timespec=timespec) + "Z"


OCCURRED_AT = st.builds(
    _occurred_at, st.datetimes(), st.sampled_from(["seconds", "milliseconds", "microseconds"])
)
CONTEXTS = st.fixed_dictionaries(
    {
        "channel": st.sampled_from(["web", "mobile_app"]),
        "device": st.fixed_dictionaries(
            {
                "type": st.sampled_from(["desktop", "mobile", "tablet"]),
                "os": st.text(max_size=20),
                "browser": OPTIONAL_TEXT,
            }
        ),
        "page": st.none() | st.fixed_dictionaries({"path": PATHS, "title": OPTIONAL_TEXT}),
        "referrer": OPTIONAL_TEXT,
        "utm": st.none()
        | st.fixed_dictionaries(
            {
                "source": st.text(max_size=20),
                "medium": st.text(max_size=20),
                "campaign": OPTIONAL_TEXT,
            }
        ),
        "traffic_source": st.sampled_from(
            ["organic_search", "paid_search", "social", "email", "referral", "direct", "affiliate"]
        ),
    }
)


@st.composite
def order_properties(draw: st.DrawFn) -> dict[str, Any]:
    """An order whose amounts add up, built in integer cents."""
    lines = draw(
        st.lists(
            st.tuples(ROW_IDS, st.integers(1, 50), st.integers(0, 10**7)), min_size=1, max_size=100
        )
    )
    subtotal = sum(quantity * unit for _, quantity, unit in lines)
    discount = draw(st.integers(0, subtotal))
    shipping, tax = draw(CENTS), draw(CENTS)
    return {
        "order_id": draw(ROW_IDS),
        "cart_id": draw(UUIDS),
        "items": [
            {
                "product_id": product_id,
                "quantity": quantity,
                "unit_price": unit / 100,
                "line_total": quantity * unit / 100,
            }
            for product_id, quantity, unit in lines
        ],
        "subtotal": subtotal / 100,
        "discount": discount / 100,
        "shipping": shipping / 100,
        "tax": tax / 100,
        "total": (subtotal - discount + shipping + tax) / 100,
        "currency": draw(CURRENCIES),
        "payment_method": draw(PAYMENT_METHODS),
    }


def _cart_totals(min_items: int) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "cart_id": UUIDS,
            "item_count": st.integers(min_value=min_items, max_value=10**6),
            "cart_value": MONEY,
            "currency": CURRENCIES,
        }
    )


PROPERTIES: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "session_started": st.fixed_dictionaries({"landing_page": PATHS}),
    "page_viewed": st.fixed_dictionaries(
        {
            "page_type": st.sampled_from(PAGE_TYPES),
            "path": PATHS,
        }
    ),
    "product_searched": st.fixed_dictionaries(
        {"query": st.text(min_size=1, max_size=200), "results_count": st.integers(0, 10**6)}
    ),
    "product_viewed": st.fixed_dictionaries(
        {"product_id": ROW_IDS, "category_id": ROW_IDS, "price": MONEY, "currency": CURRENCIES}
    ),
    "product_added_to_cart": st.fixed_dictionaries(
        {
            "cart_id": UUIDS,
            "product_id": ROW_IDS,
            "quantity": st.integers(1, 1000),
            "unit_price": MONEY,
            "currency": CURRENCIES,
        }
    ),
    "product_removed_from_cart": st.fixed_dictionaries(
        {"cart_id": UUIDS, "product_id": ROW_IDS, "quantity": st.integers(1, 1000)}
    ),
    "cart_viewed": _cart_totals(min_items=0),
    "checkout_started": _cart_totals(min_items=1),
    "payment_info_entered": st.fixed_dictionaries(
        {"cart_id": UUIDS, "payment_method": PAYMENT_METHODS}
    ),
    "order_completed": order_properties(),
    "order_refunded": st.fixed_dictionaries(
        {
            "order_id": ROW_IDS,
            "refund_amount": st.integers(1, 10**9).map(lambda cents: cents / 100),
            "currency": CURRENCIES,
            "reason": st.sampled_from(
                ["damaged", "not_as_described", "late_delivery", "changed_mind", "other"]
            ),
        }
    ),
    "support_ticket_opened": st.fixed_dictionaries(
        {
            "ticket_id": ROW_IDS,
            "order_id": st.none() | ROW_IDS,
            "category": st.sampled_from(
                ["delivery", "product_quality", "payment", "return", "account", "other"]
            ),
            "priority": st.sampled_from(["low", "normal", "high"]),
        }
    ),
}


@st.composite
def valid_events(draw: st.DrawFn) -> dict[str, Any]:
    event_type = draw(st.sampled_from(SPEC_EVENT_TYPES))
    signed_in = event_type in USER_REQUIRED_TYPES
    return {
        "event_id": draw(UUIDS),
        "event_type": event_type,
        "schema_version": draw(st.from_regex(r"\A1\.[0-9]{1,3}\Z")),
        "occurred_at": draw(OCCURRED_AT),
        "user_id": draw(ROW_IDS if signed_in else st.none() | ROW_IDS),
        "anonymous_id": draw(UUIDS),
        "session_id": draw(UUIDS),
        "context": draw(CONTEXTS),
        "properties": draw(PROPERTIES[event_type]),
    }


def _child_path(path: str, key: str | int) -> str:
    """The path the validator's reasons use: properties.items[0].quantity."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _nodes(value: Any, path: str = "") -> Iterator[tuple[str, Any, Any, str | int]]:
    """(reason path, parent, key, value) for every value below the root."""
    children = value.items() if isinstance(value, dict) else enumerate(value)
    for key, child in children:
        child_path = _child_path(path, key)
        yield child_path, value, key, child
        if isinstance(child, dict | list):
            yield from _nodes(child, child_path)


@given(valid_events())
def test_events_built_from_the_spec_are_valid(event: dict[str, Any]) -> None:
    assert validate_event(event) == []
    assert parse_event(orjson.dumps(event)) == (event, [])


@given(valid_events(), st.data())
def test_any_single_corruption_is_rejected_at_its_path(
    event: dict[str, Any], data: st.DataObject
) -> None:
    # Every key in the contract is required, every object is closed, and no field takes a
    # boolean, an empty array or an empty object: each corruption below breaks the event.
    path, parent, key, value = data.draw(st.sampled_from(list(_nodes(event))))
    corruptions = ["true", "[]", "{}"]
    if isinstance(parent, dict):
        corruptions.append("delete")
    if isinstance(value, dict):
        corruptions.append("add key")
    corruption = data.draw(st.sampled_from(corruptions))
    if corruption == "delete":
        del parent[key]
    elif corruption == "add key":
        value["unexpected_field"] = 1
    else:
        parent[key] = json.loads(corruption)
    reasons = validate_event(event)
    assert reasons
    assert any(reason.startswith((f"{path}:", f"{path}.", f"{path}[")) for reason in reasons)


def _json_containers(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.lists(children, max_size=5) | st.dictionaries(
        st.text(max_size=10), children, max_size=5
    )


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)  # what orjson can write
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=50),
    _json_containers,
    max_leaves=20,
)


@given(JSON_VALUES)
def test_validator_never_raises_on_arbitrary_json(value: object) -> None:
    reasons = validate_event(value)
    assert reasons
    assert all(isinstance(reason, str) and ": " in reason for reason in reasons)
    decoded, parse_reasons = parse_event(orjson.dumps(value))
    assert parse_reasons
    assert decoded == (value if isinstance(value, dict) else None)


@given(valid_events(), JSON_VALUES, st.data())
def test_validator_never_raises_on_arbitrary_json_inside_an_event(
    event: dict[str, Any], value: object, data: st.DataObject
) -> None:
    _, parent, key, _ = data.draw(st.sampled_from(list(_nodes(event))))
    parent[key] = value
    reasons = validate_event(event)
    assert all(isinstance(reason, str) for reason in reasons)


@given(valid_events(), JSON_VALUES, st.data())
def test_judging_a_decoded_event_agrees_with_parsing_its_bytes(
    event: dict[str, Any], value: object, data: st.DataObject
) -> None:
    """The collector judges events it decoded with the whole request; the stream processor and
    the batch jobs parse each one. Both must reach the same verdict."""
    candidate = data.draw(st.sampled_from([event, value, {**event, "padding": "x" * 33_000}]))
    if candidate is not value:
        _, parent, key, _ = data.draw(st.sampled_from(list(_nodes(event))))
        parent[key] = data.draw(st.sampled_from([value, parent[key]]))
    raw = orjson.dumps(candidate)
    assert validate_decoded(candidate, raw) == parse_event(raw)[1]


@given(st.binary(max_size=200) | st.text(max_size=200))
def test_parser_never_raises_on_arbitrary_input(raw: bytes | str) -> None:
    decoded, reasons = parse_event(raw)
    assert reasons
    assert decoded is None or isinstance(decoded, dict)


# --- generated docs ---------------------------------------------------------------------------


def test_docs_file_is_the_rendering_of_the_schemas() -> None:
    assert DOCS_PATH.read_text(encoding="utf-8") == render_markdown(), (
        "docs/events.md is stale: run `python -m contracts.events.docs`"
    )


def test_docs_describe_fields_with_their_rules() -> None:
    text = render_markdown()
    assert "| `occurred_at` | string, date-time, matching " in text
    assert "| `user_id` | integer or null, ≥ 1 | yes | Signed-in user" in text
    assert "| `items[].quantity` | integer, ≥ 1 | yes | Units ordered. |" in text
    assert "| `refund_amount` | number, > 0, multiple of 0.01 | yes |" in text
    for event_type in SPEC_EVENT_TYPES:
        assert f"\n## {event_type}\n" in text
        assert f'"event_type": "{event_type}"' in text
