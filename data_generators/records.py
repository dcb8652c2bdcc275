"""What one visit leaves behind: its events and the OLTP rows it creates.

The behaviour model (session.py) fills these in; the batch generator turns them into table
rows and the live traffic publishes their events. Kept apart from the model so readers of the
records need not load the behaviour that makes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from data_generators.orders import OrderRecord
from data_generators.visitors import Visitor


@dataclass(slots=True)
class CartLine:
    product_id: int
    quantity: int
    unit_cents: int
    added_ms: int
    updated_ms: int


@dataclass(slots=True)
class CartRecord:
    cart_id: str
    created_ms: int
    updated_ms: int
    lines: dict[int, CartLine] = field(default_factory=dict)
    converted_ms: int | None = None

    @property
    def item_count(self) -> int:
        return sum(line.quantity for line in self.lines.values())

    @property
    def value_cents(self) -> int:
        return sum(line.quantity * line.unit_cents for line in self.lines.values())


@dataclass(frozen=True, slots=True)
class TicketRecord:
    ticket_id: int
    user_id: int
    order_id: int | None
    category: str
    priority: str
    subject: str
    opened_ms: int
    resolve_after_ms: int
    closed: bool
    satisfaction: int | None


@dataclass(frozen=True, slots=True)
class RefundRecord:
    order_id: int
    refund_cents: int
    refunded_ms: int
    returned: tuple[tuple[int, int], ...]


@dataclass(slots=True)
class SessionRecord:
    """Everything one visit produced. `events` are (epoch ms, event dict) in time order."""

    session_id: str
    visitor: Visitor
    traffic_source: str
    referrer: str | None
    utm: dict | None
    landing_page: str
    exit_page: str
    page_views: int
    events: list[tuple[int, dict]]
    cart: CartRecord | None = None
    order: OrderRecord | None = None
    tickets: list[TicketRecord] = field(default_factory=list)
    refund: RefundRecord | None = None

    @property
    def started_ms(self) -> int:
        return self.events[0][0]

    @property
    def ended_ms(self) -> int:
        return self.events[-1][0]
