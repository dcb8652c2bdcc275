"""Order money and after-sales: totals in integer cents, and what goes wrong after delivery.

Money is computed in integer cents so that total = subtotal - discount + shipping + tax holds
exactly in PostgreSQL numeric(12,2) and in the event. An order's after-sales story (a late
delivery, a faulty item, a change of mind; a ticket; a refund) is decided when it is placed,
with its exact times, so the order row can carry its refund and the later visit replays it.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import accumulate

from data_generators.catalog import Catalog
from data_generators.randomness import RandomStream
from data_generators.timeline import HOURLY_SHARES, MS_PER_DAY, MS_PER_HOUR

CURRENCY = "USD"
TAX_RATE_PERCENT = 8
FREE_SHIPPING_FROM_CENTS = 5000
SHIPPING_CENTS = 599
COUPON_PERCENTS = (10, 15, 20)
# Days from order to delivery are 1 + a geometric count; at or past LATE_AFTER_DAYS it is late.
MEAN_DELIVERY_DAYS = 3.2
MAX_DELIVERY_DAYS = 9
LATE_AFTER_DAYS = 6
# Complaint propensities; customers in decline complain more and find more faults.
LATE_COMPLAINT = 0.45
DECLINING_COMPLAINT_MULTIPLIER = 3.0
DEFECT_REFUND = 0.85
LATE_REFUND = 0.35
RETURN_OPENS_TICKET = 0.25
# A customer whose decline overlaps an order's return window sends it back this often.
RETURN_WINDOW_DAYS = 30
UNHAPPY_RETURN = 0.6
UNHAPPY_RETURN_OPENS_TICKET = 0.5

_HOUR_CUMULATIVE = list(accumulate(HOURLY_SHARES.tolist()))


def cents_text(cents: int) -> str:
    """12345 -> '123.45' (for COPY into numeric columns)."""
    return f"{cents // 100}.{cents % 100:02d}"


def cents_number(cents: int) -> float:
    """12345 -> 123.45 (a JSON number with at most two decimals)."""
    return cents / 100


@dataclass(frozen=True, slots=True)
class LineItem:
    product_id: int
    quantity: int
    unit_cents: int

    @property
    def line_cents(self) -> int:
        return self.quantity * self.unit_cents


@dataclass(frozen=True, slots=True)
class OrderTotals:
    subtotal: int
    discount: int
    shipping: int
    tax: int
    total: int


def price_order(lines: list[LineItem], coupon_percent: int) -> OrderTotals:
    """Totals of an order: coupon on the subtotal, free shipping over a threshold, sales tax."""
    subtotal = sum(line.line_cents for line in lines)
    discount = (subtotal * coupon_percent + 50) // 100
    taxable = subtotal - discount
    shipping = 0 if taxable >= FREE_SHIPPING_FROM_CENTS else SHIPPING_CENTS
    tax = (taxable * TAX_RATE_PERCENT + 50) // 100
    return OrderTotals(subtotal, discount, shipping, tax, taxable + shipping + tax)


def refund_share(totals: OrderTotals, line: LineItem) -> int:
    """What refunding one line gives back: its share of the total (all of it if it is alone)."""
    if line.line_cents >= totals.subtotal:
        return totals.total
    return max(1, min(totals.total, round(totals.total * line.line_cents / totals.subtotal)))


@dataclass(frozen=True, slots=True)
class Aftercare:
    """A problem with an order that brings its customer back on a known day.

    The visit's events are: session_started, page_viewed (orders), page_viewed (the order),
    then either page_viewed (contact) + support_ticket_opened or page_viewed (return form),
    then order_refunded when there is a refund. `gaps_ms` separates consecutive events.
    """

    kind: str  # "defect" | "late_delivery" | "return" | "unhappy_return"
    order_id: int
    user_id: int
    visit_start_ms: int
    gaps_ms: tuple[int, ...]
    ticket_category: str | None
    ticket_priority: str | None
    refund_cents: int
    refund_reason: str | None
    returned: tuple[tuple[int, int], ...]  # (product_id, quantity) back into stock

    def event_times(self) -> list[int]:
        return list(accumulate(self.gaps_ms, initial=self.visit_start_ms))

    @property
    def refunded_at_ms(self) -> int | None:
        return self.event_times()[-1] if self.refund_cents else None


@dataclass(slots=True)
class OrderRecord:
    order_id: int
    user_id: int
    session_id: str
    cart_id: str
    payment_method: str
    lines: list[LineItem]
    totals: OrderTotals
    placed_ms: int
    delivery_days: int
    aftercare: Aftercare | None


def payment_method(stream: RandomStream, device_os: str) -> str:
    """Wallets where the platform offers them, otherwise cards and PayPal."""
    draw = stream.random()
    if draw < 0.02:
        return "gift_card"
    if device_os in ("iOS", "iPadOS", "macOS") and draw < 0.35:
        return "apple_pay"
    if device_os == "Android" and draw < 0.30:
        return "google_pay"
    return "paypal" if draw > 0.80 else "card"


def coupon_percent(stream: RandomStream, coupon_use: float) -> int:
    return stream.pick(COUPON_PERCENTS) if stream.chance(coupon_use) else 0


def delivery_days(stream: RandomStream) -> int:
    return min(MAX_DELIVERY_DAYS, stream.geometric(MEAN_DELIVERY_DAYS - 1) + 1)


def plan_aftercare(
    stream: RandomStream,
    catalog: Catalog,
    order: OrderRecord,
    declining: bool,
    decline_window: tuple[int, int] | None,
) -> Aftercare | None:
    """Decide whether and how this order comes back: sent back by an unhappy customer, a
    fault, a late parcel, or a change of mind. `decline_window` is the customer's decline
    as [first, last) epoch days, if one is known."""
    lines, totals = order.lines, order.totals
    placed_day = order.placed_ms // MS_PER_DAY
    if decline_window is not None:
        onset, quiet = decline_window
        delivered = placed_day + order.delivery_days
        overlaps = onset < delivered + RETURN_WINDOW_DAYS and delivered < quiet
        if overlaps and stream.chance(UNHAPPY_RETURN):
            visit_day = max(delivered, onset) + stream.below(5)
            if visit_day < quiet:
                ticket = (
                    ("return", "normal") if stream.chance(UNHAPPY_RETURN_OPENS_TICKET) else None
                )
                return _aftercare(
                    stream,
                    order,
                    kind="unhappy_return",
                    visit_day=visit_day,
                    ticket=ticket,
                    refund_cents=totals.total,
                    reason=stream.pick(("not_as_described", "changed_mind", "other")),
                    returned=tuple((line.product_id, line.quantity) for line in lines),
                )
    complain = DECLINING_COMPLAINT_MULTIPLIER if declining else 1.0
    defect_free = 1.0
    for line in lines:
        leaf = catalog.category_list[line.product_id - 1]
        defect_free *= 1.0 - catalog.leaf_specs[leaf].defect_rate
    line = lines[stream.below(len(lines))]

    if stream.chance((1.0 - defect_free) * complain):
        return _aftercare(
            stream,
            order,
            kind="defect",
            visit_day=placed_day + order.delivery_days + stream.below(4),
            ticket=("product_quality", "high" if stream.chance(0.4) else "normal"),
            refund_cents=refund_share(totals, line) if stream.chance(DEFECT_REFUND) else 0,
            reason="damaged" if stream.chance(0.6) else stream.pick(("not_as_described", "other")),
        )
    late = order.delivery_days >= LATE_AFTER_DAYS
    if late and stream.chance(min(1.0, LATE_COMPLAINT * complain)):
        goodwill = min(totals.total, totals.shipping or max(1, totals.total // 10))
        return _aftercare(
            stream,
            order,
            kind="late_delivery",
            visit_day=placed_day + LATE_AFTER_DAYS - 1 + stream.below(2),
            ticket=("delivery", "high" if stream.chance(0.5) else "normal"),
            refund_cents=goodwill if stream.chance(LATE_REFUND) else 0,
            reason="late_delivery",
        )
    leaf = catalog.category_list[line.product_id - 1]
    if stream.chance(catalog.leaf_specs[leaf].return_rate * complain):
        return _aftercare(
            stream,
            order,
            kind="return",
            visit_day=placed_day + order.delivery_days + 1 + stream.below(6),
            ticket=("return", "low") if stream.chance(RETURN_OPENS_TICKET) else None,
            refund_cents=refund_share(totals, line),
            reason="changed_mind",
            returned=((line.product_id, line.quantity),),
        )
    return None


def _aftercare(
    stream: RandomStream,
    order: OrderRecord,
    *,
    kind: str,
    visit_day: int,
    ticket: tuple[str, str] | None,
    refund_cents: int,
    reason: str,
    returned: tuple[tuple[int, int], ...] = (),
) -> Aftercare:
    """The visit's start (a time of day by the diurnal profile) and its event gaps."""
    hour = stream.weighted(_HOUR_CUMULATIVE)
    start = visit_day * MS_PER_DAY + hour * MS_PER_HOUR + stream.below(MS_PER_HOUR)
    event_count = (5 if ticket else 4) + (1 if refund_cents else 0)
    gaps = tuple(int(stream.lognormal(20_000, 0.7)) + 1 for _ in range(event_count - 1))
    return Aftercare(
        kind=kind,
        order_id=order.order_id,
        user_id=order.user_id,
        visit_start_ms=start,
        gaps_ms=gaps,
        ticket_category=ticket[0] if ticket else None,
        ticket_priority=ticket[1] if ticket else None,
        refund_cents=refund_cents,
        refund_reason=reason if refund_cents else None,
        returned=returned if refund_cents else (),
    )
