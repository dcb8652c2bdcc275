"""Contract-valid shopping sessions for the stream-processor tests and benchmark.

Deterministic for a seed. Expected totals are counted from the returned events themselves
(by type, by minute, by cart), never from the processor's code.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

WEB_CONTEXT: dict[str, Any] = {
    "channel": "web",
    "device": {"type": "desktop", "os": "Linux", "browser": "Firefox"},
    "page": {"path": "/", "title": "Home"},
    "referrer": None,
    "utm": None,
    "traffic_source": "direct",
}
START = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Visitor:
    session_id: str
    anonymous_id: str
    user_id: int | None


def timestamp(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def make_event(
    event_type: str,
    at: datetime,
    visitor: Visitor,
    properties: dict[str, Any],
    event_id: str | None = None,
) -> dict[str, Any]:
    return {
        "event_id": event_id or str(uuid.uuid4()),
        "event_type": event_type,
        "schema_version": "1.0",
        "occurred_at": timestamp(at),
        "user_id": visitor.user_id,
        "anonymous_id": visitor.anonymous_id,
        "session_id": visitor.session_id,
        "context": WEB_CONTEXT,
        "properties": properties,
    }


def encode(event: dict[str, Any]) -> bytes:
    return orjson.dumps(event)


def shopping_sessions(
    sessions: int, start: datetime = START, seed: int = 7, spread_s: int = 600
) -> list[dict[str, Any]]:
    """Events of `sessions` visits starting within spread_s of start, in time order per visit.

    A visit browses 1-4 products; about half add one to a cart, some remove a unit, and part
    of those check out and order, so every counter the processor keeps is exercised.
    """
    rng = random.Random(seed)

    def new_id() -> str:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    events: list[dict[str, Any]] = []
    for number in range(sessions):
        user_id = rng.randint(1, 5_000) if rng.random() < 0.7 else None
        visitor = Visitor(new_id(), new_id(), user_id)
        at = start + timedelta(seconds=rng.uniform(0, spread_s))

        def emit(event_type: str, properties: dict[str, Any], visitor: Visitor = visitor) -> None:
            nonlocal at
            events.append(make_event(event_type, at, visitor, properties, new_id()))
            at += timedelta(seconds=rng.uniform(1, 40))

        emit("session_started", {"landing_page": "/"})
        emit("page_viewed", {"page_type": "home", "path": "/"})
        if number % 5 == 0:
            emit("product_searched", {"query": "running shoes", "results_count": 12})
        viewed = []
        for _ in range(rng.randint(1, 4)):
            product_id, price = rng.randint(1, 300), round(rng.uniform(3, 250), 2)
            viewed.append((product_id, price))
            emit(
                "product_viewed",
                {
                    "product_id": product_id,
                    "category_id": 1 + product_id % 20,
                    "price": price,
                    "currency": "USD",
                },
            )
        if rng.random() < 0.5:
            continue
        cart_id = new_id()
        product_id, price = viewed[0]
        quantity = rng.randint(1, 3)
        emit(
            "product_added_to_cart",
            {
                "cart_id": cart_id,
                "product_id": product_id,
                "quantity": quantity,
                "unit_price": price,
                "currency": "USD",
            },
        )
        if quantity > 1 and rng.random() < 0.3:
            quantity -= 1
            emit(
                "product_removed_from_cart",
                {"cart_id": cart_id, "product_id": product_id, "quantity": 1},
            )
        line_total = round(quantity * price, 2)
        emit(
            "cart_viewed",
            {
                "cart_id": cart_id,
                "item_count": quantity,
                "cart_value": line_total,
                "currency": "USD",
            },
        )
        if user_id is None or rng.random() < 0.4:
            continue  # left with a full cart
        emit(
            "checkout_started",
            {
                "cart_id": cart_id,
                "item_count": quantity,
                "cart_value": line_total,
                "currency": "USD",
            },
        )
        emit("payment_info_entered", {"cart_id": cart_id, "payment_method": "card"})
        shipping, tax = 4.99, round(line_total * 0.08, 2)
        emit(
            "order_completed",
            {
                "order_id": 100_000 + number,
                "cart_id": cart_id,
                "items": [
                    {
                        "product_id": product_id,
                        "quantity": quantity,
                        "unit_price": price,
                        "line_total": line_total,
                    }
                ],
                "subtotal": line_total,
                "discount": 0,
                "shipping": shipping,
                "tax": tax,
                "total": round(line_total + shipping + tax, 2),
                "currency": "USD",
                "payment_method": "card",
            },
        )
    return events
