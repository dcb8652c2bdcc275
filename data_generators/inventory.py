"""Stock on hand, depleted by orders, refilled by purchase orders, fed by returns.

Every change is a movement row, so the ledger always sums to on_hand. Purchase orders go
out at the end of a day for products at or below their reorder point and arrive after the
product's lead time, at the start of a day. Returned items count as stock from the next
day, so the ledger's running balance, read in time order, never goes below zero.
"""

from __future__ import annotations

import numpy as np

from data_generators.catalog import Catalog
from data_generators.orders import OrderRecord
from data_generators.timeline import iso_utc

LEAD_TIME_DAYS = (3, 10)  # inclusive
SAFETY_DAYS = 1
# The planner's forecast per product is off by a lognormal factor: some items run out.
FORECAST_ERROR_SIGMA = 0.7
REORDER_COVER_DAYS = 30


class Inventory:
    """Per-product stock levels, purchase orders in transit and the movement ledger."""

    def __init__(
        self,
        rng: np.random.Generator,
        catalog: Catalog,
        expected_units_per_day: float,
        start_ms: int,
    ) -> None:
        size = catalog.size
        forecast_error = np.exp(FORECAST_ERROR_SIGMA * rng.standard_normal(size))
        demand = expected_units_per_day * catalog.popularity * forecast_error
        self.discontinued = catalog.discontinued
        self.lead_time_days = rng.integers(LEAD_TIME_DAYS[0], LEAD_TIME_DAYS[1] + 1, size)
        self.reorder_point = (
            np.ceil(demand * (self.lead_time_days + SAFETY_DAYS)).astype(np.int64) + 2
        )
        self.reorder_quantity = np.maximum(10, np.ceil(demand * REORDER_COVER_DAYS)).astype(
            np.int64
        )
        opening = self.reorder_point + rng.integers(0, self.reorder_quantity + 1)
        self.on_hand: list[int] = opening.tolist()
        self.arrival_day = np.full(size, -1, dtype=np.int64)
        self.last_restocked_ms: list[int | None] = [None] * size
        self.last_moved_ms: list[int] = [start_ms] * size
        self.start_ms = start_ms
        self._returns_waiting: list[tuple[int, int]] = []
        self._next_movement_id = 1
        self.movements: list[tuple] = []
        when = iso_utc(start_ms)
        for index, quantity in enumerate(self.on_hand):
            self._move(index + 1, quantity, "adjustment", None, start_ms, when)

    def available(self, product_id: int) -> int:
        return self.on_hand[product_id - 1]

    def take_order(self, order: OrderRecord) -> None:
        when = iso_utc(order.placed_ms)
        for line in order.lines:
            self.on_hand[line.product_id - 1] -= line.quantity
            self._move(
                line.product_id, -line.quantity, "order", order.order_id, order.placed_ms, when
            )

    def receive_return(self, items: tuple[tuple[int, int], ...], at_ms: int, order_id: int) -> None:
        when = iso_utc(at_ms)
        for product_id, quantity in items:
            self._returns_waiting.append((product_id, quantity))
            self._move(product_id, quantity, "return", order_id, at_ms, when)

    def shelve_returns(self) -> None:
        """Returned items received so far become sellable stock."""
        for product_id, quantity in self._returns_waiting:
            self.on_hand[product_id - 1] += quantity
        self._returns_waiting.clear()

    def start_day(self, day: int, day_ms: int) -> None:
        """Shelve yesterday's returns and receive the purchase orders due today."""
        self.shelve_returns()
        when = iso_utc(day_ms)
        for index in np.flatnonzero(self.arrival_day == day).tolist():
            quantity = int(self.reorder_quantity[index])
            self.on_hand[index] += quantity
            self.last_restocked_ms[index] = day_ms
            self._move(index + 1, quantity, "restock", None, day_ms, when)
            self.arrival_day[index] = -1

    def end_day(self, day: int) -> None:
        """Order stock for active products at or below their reorder point."""
        low = np.asarray(self.on_hand) <= self.reorder_point
        due = low & (self.arrival_day < 0) & ~self.discontinued
        self.arrival_day[due] = day + self.lead_time_days[due]

    def drain_movements(self) -> list[tuple]:
        rows, self.movements = self.movements, []
        return rows

    def rows(self) -> list[tuple]:
        """Final inventory table rows."""
        created = iso_utc(self.start_ms)
        return [
            (
                index + 1,
                self.on_hand[index],
                int(self.reorder_point[index]),
                int(self.reorder_quantity[index]),
                int(self.lead_time_days[index]),
                None if restocked is None else iso_utc(restocked),
                created,
                iso_utc(self.last_moved_ms[index]),
            )
            for index, restocked in enumerate(self.last_restocked_ms)
        ]

    def _move(
        self,
        product_id: int,
        quantity: int,
        reason: str,
        order_id: int | None,
        at_ms: int,
        when: str,
    ) -> None:
        self.movements.append(
            (self._next_movement_id, product_id, quantity, reason, order_id, when, when, when)
        )
        self._next_movement_id += 1
        index = product_id - 1
        self.last_moved_ms[index] = max(self.last_moved_ms[index], at_ms)
