"""How a visit is written down: its events in the ecommerce.events.v1 envelope, then its record.

The behaviour model (session.py) decides what the visitor does; the recorder keeps the clock,
the page and the context, so the envelope is built in one place.
"""

from __future__ import annotations

from collections.abc import Iterator

from contracts.events import SCHEMA_VERSION
from data_generators.orders import OrderRecord
from data_generators.randomness import RandomStream
from data_generators.records import CartRecord, RefundRecord, SessionRecord, TicketRecord
from data_generators.timeline import iso_utc
from data_generators.visitors import Visitor

MAX_GAP_MS = 20 * 60_000  # a gap past ~30 minutes would split the visit into two sessions


class VisitRecorder:
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
