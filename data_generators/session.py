"""One visit, from its first event to its last: the behaviour model at session level.

Given who is visiting (a `Visitor`: persona, device, engagement) and when, a
`SessionSimulator` produces the visit's events (ecommerce.events.v1 dicts) and the OLTP
records the visit creates: the session, a cart and its lines, an order, tickets, a refund.
It knows nothing about days, batches or databases, so the batch generator and a live event
simulator drive the same behaviour; each supplies the ids, stock levels and clock.
"""

from __future__ import annotations

from itertools import accumulate
from typing import Protocol
from urllib.parse import quote_plus

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
from data_generators.randomness import RandomStream
from data_generators.recorder import VisitRecorder
from data_generators.records import CartLine, CartRecord, RefundRecord, SessionRecord, TicketRecord
from data_generators.taste import (
    COMPLEMENT_ADD,
    COMPLEMENT_LOOK,
    COMPLEMENT_LOOK_AFTER_ADD,
    INTENT_ADD,
    INTENT_RECALL,
    TASTE_SHARE,
    Complements,
)
from data_generators.timeline import MS_PER_HOUR, week_tag
from data_generators.traffic import (
    TRAFFIC_SOURCES,
    anonymous_source,
    referrer_and_utm,
    returning_source,
)
from data_generators.visitors import Visitor

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


class StockLevels(Protocol):
    def available(self, product_id: int) -> int: ...


class IdSequences(Protocol):
    def next_order_id(self) -> int: ...

    def next_ticket_id(self) -> int: ...


class CountingIds:
    """Order and ticket ids, each counted up from `first` in creation order."""

    def __init__(self, first: int = 1) -> None:
        self._order = self._ticket = first - 1

    def next_order_id(self) -> int:
        self._order += 1
        return self._order

    def next_ticket_id(self) -> int:
        self._ticket += 1
        return self._ticket


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


class SessionSimulator:
    """The behaviour model for one visit; reusable by batch and live generators."""

    def __init__(
        self,
        catalog: Catalog,
        stream: RandomStream,
        ids: IdSequences,
        stock: StockLevels,
        complements: Complements | None = None,
    ) -> None:
        self.catalog = catalog
        self.stream = stream
        self.ids = ids
        self.stock = stock
        self.complements = complements

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
            product = self._pick_product(visitor, department)
            rec.open(f"/product/{product}", self.catalog.names[product - 1], "product")
            cart = self._product_page(rec, visitor, product, cart)
            views = 1
        elif landing == "category":
            category = self._category_of(self._pick_product(visitor, department))
            rec.open(f"/category/{category.slug}", category.name, "category")
        else:
            rec.open("/", "Home", "home")
        if signup:
            rec.view("/account/signup", "Create your account", "account", 40_000)
        intent = visitor.intent
        if intent is not None and intent.due_ms <= start_ms and stream.chance(INTENT_RECALL):
            product = intent.product_id
            rec.view(f"/product/{product}", self.catalog.names[product - 1], "product")
            cart = self._product_page(rec, visitor, product, cart, INTENT_ADD)
            views += 1

        mean_views = visitor.persona.product_views * (0.5 + 0.5 * visitor.engagement)
        target = min(stream.geometric(mean_views), MAX_PRODUCT_VIEWS)
        steps = 0
        while views < target and steps < 2 * target + 2:
            steps += 1
            product = self._navigate(rec, visitor, department)
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
        rec = VisitRecorder(
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
    ) -> VisitRecorder:
        campaign_topic = DEPARTMENT_SLUGS[department] if department is not None else "brand"
        referrer, utm = referrer_and_utm(self.stream, source, campaign_topic, week_tag(start_ms))
        return VisitRecorder(
            self.stream, visitor, self.stream.uuid(), source, referrer, utm, start_ms
        )

    def _pick_product(self, visitor: Visitor, department: int | None) -> int:
        """Product id by popularity: within one of the customer's favourite leaves some of
        the time, else within the department in mind some of the time."""
        stream = self.stream
        taste = visitor.taste
        if taste is not None and stream.chance(TASTE_SHARE):
            leaf = taste.leaves[stream.weighted(taste.cumulative)]
            return self.catalog.sample_in_leaf(stream.random(), leaf) + 1
        focus = (
            department if department is not None and stream.chance(DEPARTMENT_AFFINITY) else None
        )
        return self.catalog.sample(stream.random(), focus) + 1

    def _category_of(self, product: int) -> Category:
        return self.catalog.category_by_id[self.catalog.category_list[product - 1]]

    def _navigate(self, rec: VisitRecorder, visitor: Visitor, department: int | None) -> int | None:
        """Reach the next product: by search, through a category page, or from a link."""
        stream = self.stream
        product = self._pick_product(visitor, department)
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
        self,
        rec: VisitRecorder,
        visitor: Visitor,
        product: int,
        cart: CartRecord | None,
        add_rate: float | None = None,
    ) -> CartRecord | None:
        """On a product page: the product view, maybe an add to cart (at the persona's rate
        unless `add_rate` says otherwise), then maybe a look at the product's companion,
        likelier (and likelier bought) when the product went into the cart."""
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
        if product in visitor.owned:
            add_rate = 0.0
        elif add_rate is None:
            add_rate = persona.add_to_cart * visitor.buy_factor * (0.4 + 0.6 * visitor.engagement)
        added = False
        if stream.chance(add_rate):
            filled = self._add_to_cart(rec, persona.extra_quantity, product, price, cart)
            if filled is not None:
                cart, added = filled, True
        companion = self.complements.together.get(product) if self.complements else None
        look = COMPLEMENT_LOOK_AFTER_ADD if added else COMPLEMENT_LOOK
        if companion is not None and stream.chance(look):
            rec.view(f"/product/{companion}", self.catalog.names[companion - 1], "product")
            cart = self._product_page(
                rec, visitor, companion, cart, COMPLEMENT_ADD if added else None
            )
        return cart

    def _add_to_cart(
        self,
        rec: VisitRecorder,
        extra_quantity: float,
        product: int,
        price: int,
        cart: CartRecord | None,
    ) -> CartRecord | None:
        """Put the product in the cart (opened if need be); None when stock is short."""
        stream = self.stream
        quantity = 1
        while quantity < MAX_QUANTITY and stream.chance(extra_quantity):
            quantity += 1
        in_cart = cart.lines[product].quantity if cart and product in cart.lines else 0
        if self.stock.available(product) < in_cart + quantity:
            return None  # out of stock: the button is greyed out
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

    def _remove_line(self, rec: VisitRecorder, cart: CartRecord) -> None:
        products = list(cart.lines)
        line = cart.lines.pop(products[self.stream.below(len(products))])
        rec.wait(8_000)
        cart.updated_ms = rec.clock
        rec.emit(
            "product_removed_from_cart",
            {"cart_id": cart.cart_id, "product_id": line.product_id, "quantity": line.quantity},
        )

    def _cart_page(self, rec: VisitRecorder, cart: CartRecord) -> None:
        rec.view("/cart", "Your cart", "cart", 10_000)
        rec.wait(300, 0.5)
        rec.emit("cart_viewed", _cart_summary(cart))

    def _checkout(
        self, rec: VisitRecorder, visitor: Visitor, cart: CartRecord
    ) -> OrderRecord | None:
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
        rec: VisitRecorder,
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
