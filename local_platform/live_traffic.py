"""Live shop traffic for the event simulator: the generator's visits, played side by side.

The behaviour model is the generator's (data_generators.session.SessionSimulator plays every
visit); this module only decides who visits and interleaves the visits in flight. A fixed
number of visits is in flight and their events come out in the order of the visits' own
clocks (each visit's think times, laid side by side from staggered starts), so a visit with
long pauses yields fewer events than a busy one. When a visit ends another begins:
- a customer coming back about an order, when an order's after-sales plan (from the model)
  is waiting: played next instead of days later;
- else a visitor who never signs in, in the generator's proportion (visits.py);
- else a signed-in customer drawn by visit rate and engagement, never one already visiting,
  so a customer's events follow one another.
Events keep the model's occurred_at here; the sender stamps them with the time they are sent.
"""

from __future__ import annotations

import heapq
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from itertools import accumulate

import numpy as np

from data_generators.catalog import DEPARTMENTS, Catalog, catalog_size
from data_generators.inventory import Inventory
from data_generators.orders import Aftercare
from data_generators.population import build_population
from data_generators.randomness import KeyedUuids, RandomStream
from data_generators.records import SessionRecord
from data_generators.session import CountingIds, SessionSimulator
from data_generators.store import UNITS_PER_CUSTOMER_DAY
from data_generators.timeline import MS_PER_DAY
from data_generators.visitors import Visitor, anonymous_visitor, customer_visitor
from data_generators.visits import ANONYMOUS_SESSION_RATIO

ANONYMOUS_SHARE = ANONYMOUS_SESSION_RATIO / (1 + ANONYMOUS_SESSION_RATIO)
# The first visits start spread over about one visit's length (~165 s) of their own clocks.
# Until they have run their course the mix leans to early steps (session starts, landing
# pages): about the first six events per visit in flight.
INITIAL_STAGGER_MS = 3 * 60_000
_BUSY_REDRAWS = 3


@dataclass
class _Visit:
    record: SessionRecord
    shift_ms: int  # from the visit's own clock to the shared one
    user: int | None  # population index of a signed-in visitor
    position: int = 0

    def next_time(self) -> int:
        return self.record.events[self.position][0] + self.shift_ms


class LiveTraffic:
    """An endless, seeded stream of events (dicts of ecommerce.events.v1) from concurrent visits."""

    def __init__(
        self,
        users: int,
        seed: int,
        concurrent_visits: int,
        clock_ms: Callable[[], int] = lambda: time.time_ns() // 1_000_000,
    ) -> None:
        if users < 1 or concurrent_visits < 1:
            raise ValueError("users and concurrent_visits must be at least 1")
        self._clock_ms = clock_ms
        now_ms = clock_ms()
        catalog_seed, people_seed, stock_seed, stream_seed = np.random.SeedSequence(seed).spawn(4)
        people_rng = np.random.Generator(np.random.PCG64(people_seed))
        catalog = Catalog(np.random.Generator(np.random.PCG64(catalog_seed)), catalog_size(users))
        day_ms = now_ms - now_ms % MS_PER_DAY
        self._people = build_population(people_rng, users, 1, day_ms, len(DEPARTMENTS))
        self._device_ids = KeyedUuids(people_rng.bytes(16))
        # Live visits see the opening stock: a long run does not sell the shelves empty.
        stock = Inventory(
            np.random.Generator(np.random.PCG64(stock_seed)),
            catalog,
            max(1.0, users * UNITS_PER_CUSTOMER_DAY),
            now_ms,
        )
        self._stream = RandomStream(stream_seed)
        # Order and ticket ids count up from the start time in ms: a new run reuses none.
        self._simulator = SessionSimulator(catalog, self._stream, CountingIds(now_ms), stock)

        churn = self._people.churn
        self._customers = np.flatnonzero(churn.alive(0)).tolist()
        engagement = churn.engagement(0, self._customers)
        weights = self._people.visit_rate[self._customers] * engagement
        self._customer_cumulative = list(accumulate(weights.tolist()))
        self._engagement = dict(zip(self._customers, engagement.tolist(), strict=True))
        self._declining = set(np.flatnonzero(churn.declining(0)).tolist())

        self._busy: set[int] = set()
        self._aftercare: deque[Aftercare] = deque()
        self._queue: list[tuple[int, int, _Visit]] = []
        self._sequence = 0
        for _ in range(concurrent_visits):
            self._start_visit(now_ms + int(self._stream.random() * INITIAL_STAGGER_MS))

    @property
    def customers(self) -> int:
        """Signed-in customers who can visit (signed up and not churned)."""
        return len(self._customers)

    def next_event(self) -> dict:
        """The next event on the shared clock; the visits in flight stay at the same number."""
        at_ms, _, visit = heapq.heappop(self._queue)
        event = visit.record.events[visit.position][1]
        visit.position += 1
        if visit.position < len(visit.record.events):
            self._schedule(visit)
        else:
            self._finish(visit)
            self._start_visit(at_ms)
        return event

    def _schedule(self, visit: _Visit) -> None:
        self._sequence += 1
        heapq.heappush(self._queue, (visit.next_time(), self._sequence, visit))

    def _start_visit(self, start_ms: int) -> None:
        # The model sees the wall clock (campaign weeks); the shared clock only orders events.
        wall_ms = self._clock_ms()
        user: int | None = None
        if self._aftercare and self._aftercare[0].user_id - 1 not in self._busy:
            plan = self._aftercare.popleft()
            user = plan.user_id - 1
            record = self._simulator.aftercare(self._customer(user), plan)
        else:
            user = self._pick_customer()
            visitor = self._anonymous() if user is None else self._customer(user)
            record = self._simulator.browse(visitor, wall_ms)
        if user is not None:
            self._busy.add(user)
        self._schedule(_Visit(record, start_ms - record.started_ms, user))

    def _finish(self, visit: _Visit) -> None:
        if visit.user is None:
            return  # only signed-in customers order
        self._busy.discard(visit.user)
        order = visit.record.order
        if order is not None:
            self._people.last_order_id[visit.user] = order.order_id
            if order.aftercare is not None:
                self._aftercare.append(order.aftercare)

    def _pick_customer(self) -> int | None:
        """A customer by visit rate who is not visiting now, or None for an anonymous visit."""
        if not self._customers or self._stream.chance(ANONYMOUS_SHARE):
            return None
        for _ in range(_BUSY_REDRAWS):
            user = self._customers[self._stream.weighted(self._customer_cumulative)]
            if user not in self._busy:
                return user
        return None

    def _customer(self, user: int) -> Visitor:
        return customer_visitor(
            self._people,
            self._device_ids,
            self._stream,
            user,
            engagement=self._engagement.get(user, 1.0),
            declining=user in self._declining,
        )

    def _anonymous(self) -> Visitor:
        return anonymous_visitor(self._stream)
