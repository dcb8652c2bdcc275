"""Fold a batch of valid, not-yet-counted events into the deltas for the real-time tables.

Pure and in memory: one pass per batch, so the database sees one upsert per minute, product,
cart and cart line instead of one per event. Every delta is a sum (or a min/max of times),
which makes applying batches in any order give the same totals. Money is kept in integer
cents so sums are exact.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from contracts.shopper_signals import visitor_key
from lambdas.stream_processor.records import SourceRecord

Event = Mapping[str, Any]


@dataclass
class MinuteCounts:
    events: int = 0
    product_views: int = 0
    add_to_carts: int = 0
    checkouts: int = 0
    orders: int = 0
    revenue_cents: int = 0


@dataclass
class ProductCounts:
    last_event_at: datetime
    views: int = 0
    cart_adds: int = 0
    units_added: int = 0
    units_removed: int = 0
    units_sold: int = 0
    revenue_cents: int = 0


@dataclass
class CartActivity:
    session_id: str
    opened_at: datetime
    last_activity_at: datetime
    user_id: int | None = None
    checkout_started_at: datetime | None = None
    ordered_at: datetime | None = None
    order_id: int | None = None


@dataclass
class CartLineChange:
    quantity: int = 0
    unit_price_cents: int | None = None


# (visitor_key, product_id, action): a product a visitor viewed ("view") or carted ("cart").
VisitorProduct = tuple[str, int, str]


@dataclass
class BatchAggregates:
    minutes: dict[datetime, MinuteCounts] = field(default_factory=dict)
    minute_sessions: set[tuple[datetime, str]] = field(default_factory=set)
    products: dict[int, ProductCounts] = field(default_factory=dict)
    carts: dict[str, CartActivity] = field(default_factory=dict)
    cart_lines: dict[tuple[str, int], CartLineChange] = field(default_factory=dict)
    # The latest time of each visitor's view or cart add of a product (the live session the
    # recommendations API blends in).
    visitor_products: dict[VisitorProduct, datetime] = field(default_factory=dict)


def to_cents(amount: float) -> int:
    """Contract money has at most 2 decimals; rounding undoes the binary float error."""
    return round(amount * 100)


def event_time(event: Event) -> datetime:
    return datetime.fromisoformat(event["occurred_at"])


def partition_watermarks(
    events: Iterable[tuple[SourceRecord, Event]], not_after: datetime
) -> dict[tuple[str, int], datetime]:
    """Latest event time per source partition, capped at not_after: a client with its clock
    set years ahead must not make every open cart look abandoned."""
    latest: dict[tuple[str, int], datetime] = {}
    for record, event in events:
        key = (record.topic, record.partition)
        at = min(event_time(event), not_after)
        if key not in latest or at > latest[key]:
            latest[key] = at
    return latest


def aggregate_events(events: Iterable[Event]) -> BatchAggregates:
    """The deltas a batch of distinct, valid events adds to the real-time tables."""
    batch = BatchAggregates()
    for event in events:
        at = event_time(event)
        minute = at.replace(second=0, microsecond=0)
        counts = batch.minutes.get(minute)
        if counts is None:
            counts = batch.minutes[minute] = MinuteCounts()
        counts.events += 1
        batch.minute_sessions.add((minute, event["session_id"]))
        _count_by_type(batch, counts, event, at)
    return batch


def _count_by_type(
    batch: BatchAggregates, counts: MinuteCounts, event: Event, at: datetime
) -> None:
    kind = event["event_type"]
    props = event["properties"]
    if kind == "product_viewed":
        counts.product_views += 1
        _product(batch, props["product_id"], at).views += 1
        _visitor_product(batch, event, "view", at)
    elif kind == "product_added_to_cart":
        counts.add_to_carts += 1
        product = _product(batch, props["product_id"], at)
        product.cart_adds += 1
        product.units_added += props["quantity"]
        _visitor_product(batch, event, "cart", at)
        _cart(batch, event, at)
        line = _cart_line(batch, props["cart_id"], props["product_id"])
        line.quantity += props["quantity"]
        line.unit_price_cents = to_cents(props["unit_price"])
    elif kind == "product_removed_from_cart":
        _product(batch, props["product_id"], at).units_removed += props["quantity"]
        _cart(batch, event, at)
        _cart_line(batch, props["cart_id"], props["product_id"]).quantity -= props["quantity"]
    elif kind == "checkout_started":
        counts.checkouts += 1
        cart = _cart(batch, event, at)
        cart.checkout_started_at = _earliest(cart.checkout_started_at, at)
    elif kind == "order_completed":
        counts.orders += 1
        counts.revenue_cents += to_cents(props["total"])
        cart = _cart(batch, event, at)
        cart.ordered_at = _earliest(cart.ordered_at, at)
        cart.order_id = props["order_id"]
        for item in props["items"]:
            product = _product(batch, item["product_id"], at)
            product.units_sold += item["quantity"]
            product.revenue_cents += to_cents(item["line_total"])
    elif kind in ("cart_viewed", "payment_info_entered"):
        _cart(batch, event, at)


def _product(batch: BatchAggregates, product_id: int, at: datetime) -> ProductCounts:
    product = batch.products.get(product_id)
    if product is None:
        product = batch.products[product_id] = ProductCounts(last_event_at=at)
    elif at > product.last_event_at:
        product.last_event_at = at
    return product


def _visitor_product(batch: BatchAggregates, event: Event, action: str, at: datetime) -> None:
    visitor = visitor_key(event["user_id"], event["anonymous_id"])
    key = (visitor, event["properties"]["product_id"], action)
    latest = batch.visitor_products.get(key)
    if latest is None or at > latest:
        batch.visitor_products[key] = at


def _cart(batch: BatchAggregates, event: Event, at: datetime) -> CartActivity:
    """Record activity on the event's cart."""
    cart_id = event["properties"]["cart_id"]
    cart = batch.carts.get(cart_id)
    if cart is None:
        cart = batch.carts[cart_id] = CartActivity(
            session_id=event["session_id"],
            opened_at=at,
            last_activity_at=at,
            user_id=event["user_id"],
        )
        return cart
    if at < cart.opened_at:
        cart.opened_at = at
        cart.session_id = event["session_id"]
    cart.last_activity_at = max(cart.last_activity_at, at)
    if event["user_id"] is not None:
        cart.user_id = event["user_id"]
    return cart


def _cart_line(batch: BatchAggregates, cart_id: str, product_id: int) -> CartLineChange:
    key = (cart_id, product_id)
    line = batch.cart_lines.get(key)
    if line is None:
        line = batch.cart_lines[key] = CartLineChange()
    return line


def _earliest(current: datetime | None, candidate: datetime) -> datetime:
    return candidate if current is None or candidate < current else current
