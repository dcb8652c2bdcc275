"""One visit, from its first event to its last: the behaviour model at session level.

Given who is visiting (a `Visitor`: persona, device, engagement) and when, a
`SessionSimulator` produces the visit's events (ecommerce.events.v1 dicts) and the OLTP
records the visit creates: the session, a cart and its lines, an order, tickets, a refund.
It knows nothing about days, batches or databases, so the batch generator and a live event
simulator drive the same behaviour; each supplies the ids, stock levels and clock.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import IntEnum
from itertools import accumulate
from typing import Protocol
from urllib.parse import quote_plus

from contracts.events import SCHEMA_VERSION
from data_generators.catalog import DEPARTMENT_AFFINITY, DEPARTMENTS, Catalog, Category, slugify
from data_generators.orders import (
    CURRENCY,
    Aftercare,
    LineItem,
    OrderRecord,
    cents_number,
    coupon_percent,
    delivery_days,
    payment_method,
    plan_aftercare,
    price_order,
)
from data_generators.personas import Persona
from data_generators.randomness import RandomStream
from data_generators.timeline import MS_PER_HOUR, iso_utc, week_tag
from data_generators.traffic import (
    SOURCE_INDEX,
    TRAFFIC_SOURCES,
    Device,
    anonymous_source,
    referrer_and_utm,
    returning_source,
)

MAX_GAP_MS = 20 * 60_000  # a gap past ~30 minutes would split the visit into two sessions
SEARCH_SHARE = 0.22
CATEGORY_SHARE = 0.33
ZERO_RESULT_SEARCHES = 0.07
MAX_QUANTITY = 5
MAX_PRODUCT_VIEWS = 40
REMOVE_FROM_CART = 0.06
GENERAL_TICKET_PER_SESSION = 0.002
GENERAL_TICKET_DECLINING_MULTIPLIER = 5.0
ABANDONER_VIEWS_CART = 0.35
COMPLAINT_ABOUT_LAST_ORDER = 0.6


DEPARTMENT_SLUGS = tuple(slugify(department.name) for department in DEPARTMENTS)


class VisitKind(IntEnum):
    BROWSE = 0
    SIGNUP = 1
    AFTERCARE = 2
    COMPLAINT = 3


@dataclass(frozen=True, slots=True)
class Visitor:
    """Who is visiting: signed in (user_id) or anonymous, and their current state."""

    user_id: int | None
    anonymous_id: str
    persona: Persona
    device: Device
    acquisition_channel: int = SOURCE_INDEX["direct"]
    email_opt_in: bool = False
    buy_factor: float = 1.0
    engagement: float = 1.0
    declining: bool = False
    decline_window: tuple[int, int] | None = None  # [first, last) epoch day, when known
    preferred_department: int | None = None
    last_order_id: int | None = None


class StockLevels(Protocol):
    def available(self, product_id: int) -> int: ...


class IdSequences(Protocol):
    def next_order_id(self) -> int: ...

    def next_ticket_id(self) -> int: ...


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


_SUBJECTS = {
    "delivery": ("Where is my order #{order}?", "Order #{order} is late"),
    "product_quality": ("Item in order #{order} arrived damaged", "Problem with order #{order}"),
    "return": ("Return for order #{order}", "How do I return order #{order}?"),
    "payment": ("Charged twice", "Payment declined at checkout"),
    "account": ("Cannot sign in", "Update my email address", "Delete my account"),
    "other": ("Question about a product", "Feedback on the shop"),
}
_SATISFACTION = {
    False: list(accumulate((0.05, 0.08, 0.17, 0.35, 0.35))),
    True: list(accumulate((0.30, 0.30, 0.20, 0.12, 0.08))),
}


class _Recorder:
    """Builds a visit's events: one clock, one context, page bookkeeping.

    The clock moves by random think times, or along `schedule` when the visit's timing was
    decided in advance (after-sales visits, whose refund time the order row already holds).
    """

    def __init__(
        self,
        stream: RandomStream,
        visitor: Visitor,
        session_id: str,
        source: str,
        referrer: str | None,
        utm: dict | None,
        start_ms: int,
        schedule: Iterator[int] | None = None,
    ) -> None:
        self.stream = stream
        self.visitor = visitor
        self.session_id = session_id
        self.source = source
        self.referrer = referrer
        self.utm = utm
        self.schedule = schedule
        self.device = visitor.device.as_context()
        self.clock = start_ms
        self.events: list[tuple[int, dict]] = []
        self.page: dict | None = None
        self.landing = ""
        self.page_views = 0

    def wait(self, median_ms: float, sigma: float = 0.8) -> None:
        if self.schedule is not None:
            self.clock = next(self.schedule)
        else:
            self.clock += min(int(self.stream.lognormal(median_ms, sigma)), MAX_GAP_MS) + 1

    def emit(self, event_type: str, properties: dict) -> None:
        self.events.append(
            (
                self.clock,
                {
                    "event_id": self.stream.uuid(),
                    "event_type": event_type,
                    "schema_version": SCHEMA_VERSION,
                    "occurred_at": iso_utc(self.clock),
                    "user_id": self.visitor.user_id,
                    "anonymous_id": self.visitor.anonymous_id,
                    "session_id": self.session_id,
                    "context": {
                        "channel": self.visitor.device.channel,
                        "device": self.device,
                        "page": self.page,
                        "referrer": self.referrer,
                        "utm": self.utm,
                        "traffic_source": self.source,
                    },
                    "properties": properties,
                },
            )
        )

    def open(self, path: str, title: str, page_type: str) -> None:
        """session_started on the landing page, then its page view."""
        self.page = {"path": path, "title": title}
        self.landing = path
        self.emit("session_started", {"landing_page": path})
        self.wait(250, 0.5)
        self.page_views += 1
        self.emit("page_viewed", {"page_type": page_type, "path": path})

    def view(self, path: str, title: str, page_type: str, dwell_ms: float = 22_000) -> None:
        self.wait(dwell_ms)
        self.page = {"path": path, "title": title}
        self.page_views += 1
        self.emit("page_viewed", {"page_type": page_type, "path": path})

    def record(
        self,
        *,
        cart: CartRecord | None = None,
        order: OrderRecord | None = None,
        tickets: list[TicketRecord] | None = None,
        refund: RefundRecord | None = None,
    ) -> SessionRecord:
        return SessionRecord(
            session_id=self.session_id,
            visitor=self.visitor,
            traffic_source=self.source,
            referrer=self.referrer,
            utm=self.utm,
            landing_page=self.landing,
            exit_page=self.page["path"] if self.page else self.landing,
            page_views=self.page_views,
            events=self.events,
            cart=cart,
            order=order,
            tickets=tickets or [],
            refund=refund,
        )


class SessionSimulator:
    """The behaviour model for one visit; reusable by batch and live generators."""

    def __init__(
        self,
        catalog: Catalog,
        stream: RandomStream,
        ids: IdSequences,
        stock: StockLevels,
    ) -> None:
        self.catalog = catalog
        self.stream = stream
        self.ids = ids
        self.stock = stock

    # -- entry points ---------------------------------------------------------------------

    def browse(self, visitor: Visitor, start_ms: int, *, signup: bool = False) -> SessionRecord:
        """A shopping visit: land, browse and search, maybe fill a cart, maybe buy."""
        stream = self.stream
        if signup:
            source = TRAFFIC_SOURCES[visitor.acquisition_channel]
        elif visitor.user_id is None:
            source = anonymous_source(stream)
        else:
            source = returning_source(stream, visitor.acquisition_channel, visitor.email_opt_in)
        department = visitor.preferred_department
        if department is None and stream.chance(0.5):
            department = stream.below(len(DEPARTMENTS))
        rec = self._recorder(visitor, source, start_ms, department)
        cart: CartRecord | None = None

        landing = _landing_page_type(stream, source, signup)
        views = 0
        if landing == "product":
            product = self._pick_product(department)
            rec.open(f"/product/{product}", self.catalog.names[product - 1], "product")
            cart = self._product_page(rec, visitor, product, cart)
            views = 1
        elif landing == "category":
            category = self._category_of(self._pick_product(department))
            rec.open(f"/category/{category.slug}", category.name, "category")
        else:
            rec.open("/", "Home", "home")
        if signup:
            rec.view("/account/signup", "Create your account", "account", 40_000)

        mean_views = visitor.persona.product_views * (0.5 + 0.5 * visitor.engagement)
        target = min(stream.geometric(mean_views), MAX_PRODUCT_VIEWS)
        steps = 0
        while views < target and steps < 2 * target + 2:
            steps += 1
            product = self._navigate(rec, department)
            if product is None:
                continue
            rec.view(f"/product/{product}", self.catalog.names[product - 1], "product")
            cart = self._product_page(rec, visitor, product, cart)
            views += 1
            if cart and len(cart.lines) > 1 and stream.chance(REMOVE_FROM_CART):
                self._remove_line(rec, cart)

        tickets = []
        if visitor.user_id is not None:
            rate = GENERAL_TICKET_PER_SESSION * (
                GENERAL_TICKET_DECLINING_MULTIPLIER if visitor.declining else 1.0
            )
            if stream.chance(rate):
                rec.view("/help", "Help centre", "help")
                tickets.append(self._open_ticket(rec, visitor, self._complaint_topic(visitor)))

        order = self._checkout(rec, visitor, cart) if cart and cart.lines else None
        return rec.record(cart=cart, order=order, tickets=tickets)

    def aftercare(self, visitor: Visitor, plan: Aftercare) -> SessionRecord:
        """The customer comes back about an order, on the visit its after-sales plan fixed."""
        schedule = iter(plan.event_times())
        rec = _Recorder(
            self.stream, visitor, self.stream.uuid(), "direct", None, None, next(schedule), schedule
        )
        order_path = f"/account/orders/{plan.order_id}"
        rec.open("/account/orders", "Your orders", "account")
        rec.view(order_path, f"Order #{plan.order_id}", "account")
        tickets = []
        if plan.ticket_category is not None:
            rec.view("/help/contact", "Contact us", "help")
            topic = (plan.ticket_category, plan.order_id)
            tickets.append(self._open_ticket(rec, visitor, topic, plan.ticket_priority))
        else:
            rec.view(f"{order_path}/return", "Return items", "account")
        refund = None
        if plan.refund_cents:
            rec.wait(0)
            rec.emit(
                "order_refunded",
                {
                    "order_id": plan.order_id,
                    "refund_amount": cents_number(plan.refund_cents),
                    "currency": CURRENCY,
                    "reason": plan.refund_reason,
                },
            )
            refund = RefundRecord(plan.order_id, plan.refund_cents, rec.clock, plan.returned)
        return rec.record(tickets=tickets, refund=refund)

    def complaint(self, visitor: Visitor, start_ms: int) -> SessionRecord:
        """A customer in decline writes in: help pages, then a ticket."""
        rec = self._recorder(visitor, "direct", start_ms, None)
        rec.open("/help", "Help centre", "help")
        topic = self._complaint_topic(visitor)
        if topic[1] is not None:
            rec.view("/account/orders", "Your orders", "account")
        rec.view("/help/contact", "Contact us", "help")
        return rec.record(tickets=[self._open_ticket(rec, visitor, topic)])

    # -- steps ----------------------------------------------------------------------------

    def _recorder(
        self, visitor: Visitor, source: str, start_ms: int, department: int | None
    ) -> _Recorder:
        campaign_topic = DEPARTMENT_SLUGS[department] if department is not None else "brand"
        referrer, utm = referrer_and_utm(self.stream, source, campaign_topic, week_tag(start_ms))
        return _Recorder(self.stream, visitor, self.stream.uuid(), source, referrer, utm, start_ms)

    def _pick_product(self, department: int | None) -> int:
        """Product id by popularity, within the department in mind some of the time."""
        stream = self.stream
        focus = (
            department if department is not None and stream.chance(DEPARTMENT_AFFINITY) else None
        )
        return self.catalog.sample(stream.random(), focus) + 1

    def _category_of(self, product: int) -> Category:
        return self.catalog.category_by_id[self.catalog.category_list[product - 1]]

    def _navigate(self, rec: _Recorder, department: int | None) -> int | None:
        """Reach the next product: by search, through a category page, or from a link."""
        stream = self.stream
        product = self._pick_product(department)
        draw = stream.random()
        if draw < SEARCH_SHARE:
            category = self._category_of(product)
            spec = self.catalog.leaf_specs[category.id]
            noun = stream.pick(spec.nouns)
            if stream.chance(ZERO_RESULT_SEARCHES):
                query, results = _typo(stream, noun), 0
            elif stream.chance(0.3):
                brand = self.catalog.brands[product - 1]
                query = f"{brand} {noun}".lower()
                results = max(1, self.catalog.leaf_sizes[category.id] // 3)
            else:
                query, results = noun, self.catalog.leaf_sizes[category.id]
            rec.wait(12_000)
            rec.emit("product_searched", {"query": query, "results_count": results})
            rec.view(f"/search?q={quote_plus(query)}", f"Search: {query}", "search", 900)
            return product if results else None
        if draw < SEARCH_SHARE + CATEGORY_SHARE:
            category = self._category_of(product)
            rec.view(f"/category/{category.slug}", category.name, "category")
        return product

    def _product_page(
        self, rec: _Recorder, visitor: Visitor, product: int, cart: CartRecord | None
    ) -> CartRecord | None:
        """On a product page: the product view, and maybe an add to cart."""
        stream, persona = self.stream, visitor.persona
        price = self.catalog.price_list[product - 1]
        rec.wait(400, 0.5)
        rec.emit(
            "product_viewed",
            {
                "product_id": product,
                "category_id": self.catalog.category_list[product - 1],
                "price": cents_number(price),
                "currency": CURRENCY,
            },
        )
        add = persona.add_to_cart * visitor.buy_factor * (0.4 + 0.6 * visitor.engagement)
        if not stream.chance(add):
            return cart
        quantity = 1
        while quantity < MAX_QUANTITY and stream.chance(persona.extra_quantity):
            quantity += 1
        in_cart = cart.lines[product].quantity if cart and product in cart.lines else 0
        if self.stock.available(product) < in_cart + quantity:
            return cart  # out of stock: the button is greyed out
        rec.wait(12_000, 0.6)
        if cart is None:
            cart = CartRecord(stream.uuid(), rec.clock, rec.clock)
        line = cart.lines.get(product)
        if line is None:
            cart.lines[product] = CartLine(product, quantity, price, rec.clock, rec.clock)
        else:
            line.quantity += quantity
            line.updated_ms = rec.clock
        cart.updated_ms = rec.clock
        rec.emit(
            "product_added_to_cart",
            {
                "cart_id": cart.cart_id,
                "product_id": product,
                "quantity": quantity,
                "unit_price": cents_number(price),
                "currency": CURRENCY,
            },
        )
        if stream.chance(0.15):
            self._cart_page(rec, cart)
        return cart

    def _remove_line(self, rec: _Recorder, cart: CartRecord) -> None:
        products = list(cart.lines)
        line = cart.lines.pop(products[self.stream.below(len(products))])
        rec.wait(8_000)
        cart.updated_ms = rec.clock
        rec.emit(
            "product_removed_from_cart",
            {"cart_id": cart.cart_id, "product_id": line.product_id, "quantity": line.quantity},
        )

    def _cart_page(self, rec: _Recorder, cart: CartRecord) -> None:
        rec.view("/cart", "Your cart", "cart", 10_000)
        rec.wait(300, 0.5)
        rec.emit("cart_viewed", _cart_summary(cart))

    def _checkout(self, rec: _Recorder, visitor: Visitor, cart: CartRecord) -> OrderRecord | None:
        """The funnel's last steps; each can lose the shopper."""
        stream, persona = self.stream, visitor.persona
        if not stream.chance(persona.checkout * (0.5 + 0.5 * visitor.engagement)):
            if stream.chance(ABANDONER_VIEWS_CART):
                self._cart_page(rec, cart)
            return None
        self._cart_page(rec, cart)
        rec.view("/checkout", "Checkout", "checkout", 15_000)
        rec.wait(300, 0.5)
        rec.emit("checkout_started", _cart_summary(cart))
        if not stream.chance(persona.payment):
            return None
        method = payment_method(stream, visitor.device.os)
        rec.wait(60_000, 0.5)
        rec.emit("payment_info_entered", {"cart_id": cart.cart_id, "payment_method": method})
        if visitor.user_id is None or not stream.chance(persona.complete):
            return None
        lines = [LineItem(x.product_id, x.quantity, x.unit_cents) for x in cart.lines.values()]
        totals = price_order(lines, coupon_percent(stream, persona.coupon_use))
        rec.wait(5_000, 0.4)
        order = OrderRecord(
            order_id=self.ids.next_order_id(),
            user_id=visitor.user_id,
            session_id=rec.session_id,
            cart_id=cart.cart_id,
            payment_method=method,
            lines=lines,
            totals=totals,
            placed_ms=rec.clock,
            delivery_days=delivery_days(stream),
            aftercare=None,
        )
        order.aftercare = plan_aftercare(
            stream, self.catalog, order, visitor.declining, visitor.decline_window
        )
        rec.emit(
            "order_completed",
            {
                "order_id": order.order_id,
                "cart_id": cart.cart_id,
                "items": [
                    {
                        "product_id": x.product_id,
                        "quantity": x.quantity,
                        "unit_price": cents_number(x.unit_cents),
                        "line_total": cents_number(x.line_cents),
                    }
                    for x in lines
                ],
                "subtotal": cents_number(totals.subtotal),
                "discount": cents_number(totals.discount),
                "shipping": cents_number(totals.shipping),
                "tax": cents_number(totals.tax),
                "total": cents_number(totals.total),
                "currency": CURRENCY,
                "payment_method": method,
            },
        )
        cart.converted_ms = cart.updated_ms = rec.clock
        rec.view(f"/checkout/confirmation/{order.order_id}", "Thank you", "checkout", 1_500)
        return order

    def _complaint_topic(self, visitor: Visitor) -> tuple[str, int | None]:
        stream = self.stream
        if visitor.last_order_id and stream.chance(COMPLAINT_ABOUT_LAST_ORDER):
            return stream.pick(("delivery", "product_quality", "return")), visitor.last_order_id
        return stream.pick(("account", "payment", "other")), None

    def _open_ticket(
        self,
        rec: _Recorder,
        visitor: Visitor,
        topic: tuple[str, int | None],
        priority: str | None = None,
    ) -> TicketRecord:
        stream = self.stream
        category, order_id = topic
        if priority is None:
            priority = (
                "high" if stream.chance(0.25) else ("normal" if stream.chance(0.8) else "low")
            )
        rec.wait(45_000, 0.6)
        ticket_id = self.ids.next_ticket_id()
        rec.emit(
            "support_ticket_opened",
            {
                "ticket_id": ticket_id,
                "order_id": order_id,
                "category": category,
                "priority": priority,
            },
        )
        answered = stream.chance(0.55)
        return TicketRecord(
            ticket_id=ticket_id,
            user_id=visitor.user_id or 0,
            order_id=order_id,
            category=category,
            priority=priority,
            subject=stream.pick(_SUBJECTS[category]).format(order=order_id),
            opened_ms=rec.clock,
            resolve_after_ms=int(
                stream.lognormal(6 if priority == "high" else 20, 0.9) * MS_PER_HOUR
            ),
            closed=stream.chance(0.7),
            satisfaction=1 + stream.weighted(_SATISFACTION[visitor.declining])
            if answered
            else None,
        )


def _cart_summary(cart: CartRecord) -> dict:
    return {
        "cart_id": cart.cart_id,
        "item_count": cart.item_count,
        "cart_value": cents_number(cart.value_cents),
        "currency": CURRENCY,
    }


def _landing_page_type(stream: RandomStream, source: str, signup: bool) -> str:
    """Where a visit lands: ads and links point at products, email at categories."""
    if signup or source == "direct":
        return "home"
    if source in ("paid_search", "affiliate", "referral"):
        return "product"
    if source in ("organic_search", "social"):
        return "product" if stream.chance(0.6) else "category"
    return "category" if stream.chance(0.7) else "home"


def _typo(stream: RandomStream, word: str) -> str:
    """A misspelt query (drop one letter, add a stray one) that finds nothing."""
    cut = stream.below(len(word))
    return f"{word[:cut]}{word[cut + 1 :]}q"
