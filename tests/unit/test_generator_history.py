"""The shop's history before the window, generated into memory: determinism, dates, the
documented orders-per-customer range, persona signal and churn ground truth.

The ranges come from docs/data_generation.md ("The history"), measured on seeds 1-8 of
2,000 customers x 30 days with 365 days of history, widened for this smaller sample.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import timedelta

import numpy as np
import pytest
from generated_shop import MemoryRows

from data_generators import GenerationSettings
from data_generators.sink import EventLog
from data_generators.store import StoreRun

YEAR_OF_HISTORY = GenerationSettings(users=1500, days=7, seed=3, history_days=365)


def _generate(settings: GenerationSettings) -> tuple[StoreRun, dict[str, list[tuple]]]:
    rows = MemoryRows()
    run = StoreRun(settings, rows, EventLog(None))
    run.run(progress=False)
    return run, rows.tables


@pytest.fixture(scope="module")
def year() -> tuple[StoreRun, dict[str, list[tuple]]]:
    return _generate(YEAR_OF_HISTORY)


def _window_start() -> str:
    return YEAR_OF_HISTORY.start_date.isoformat()


def test_same_seed_same_history_other_seed_another() -> None:
    settings = GenerationSettings(users=200, days=3, history_days=90)
    _, first = _generate(settings)
    _, again = _generate(settings)
    _, other = _generate(settings.model_copy(update={"seed": 43}))

    for table in ("orders", "order_items", "support_tickets"):
        assert again[table] == first[table]
    assert other["orders"] != first["orders"]


def test_history_rows_are_dated_before_the_window_and_counted(year) -> None:
    run, tables = year
    start = _window_start()
    first_day = YEAR_OF_HISTORY.history_start_date.isoformat()
    history = [order for order in tables["orders"] if order[13] < start]
    history_ids = {order[0] for order in history}
    history_tickets = [ticket for ticket in tables["support_tickets"] if ticket[8] < start]

    assert all(order[13] >= first_day for order in history)
    assert run.history_rows == {
        "orders": len(history),
        "order_items": sum(1 for item in tables["order_items"] if item[1] in history_ids),
        "support_tickets": len(history_tickets),
    }
    # Order ids count on from the history into the window.
    window_ids = {order[0] for order in tables["orders"]} - history_ids
    assert max(history_ids) < min(window_ids)
    # No sessions or carts before the window: history orders point at none.
    assert all(order[2] is None and order[3] is None for order in history)
    assert min(session[14] for session in tables["sessions"]) >= start


def test_history_orders_leave_todays_stock_alone(year) -> None:
    _, tables = year
    start = _window_start()
    history_ids = {order[0] for order in tables["orders"] if order[13] < start}

    moved = {movement[4] for movement in tables["inventory_movements"]}
    assert moved.isdisjoint(history_ids)
    assert all(movement[5] >= start for movement in tables["inventory_movements"])


def test_customers_sign_up_before_their_first_order(year) -> None:
    _, tables = year
    signed_up = {user[0]: user[9] for user in tables["users"]}

    assert all(signed_up[order[1]] <= order[13] for order in tables["orders"])
    assert all(signed_up[ticket[1]] <= ticket[8] for ticket in tables["support_tickets"])


def test_orders_per_customer_fall_in_the_documented_range(year) -> None:
    _, tables = year
    six_months_before = (YEAR_OF_HISTORY.start_date - timedelta(days=184)).isoformat()
    start = _window_start()
    customers = [user[0] for user in tables["users"] if user[9] < six_months_before]
    orders = Counter(order[1] for order in tables["orders"] if order[13] < start)
    per_customer = np.array([orders[user] for user in customers])
    persona = {profile[0]: profile[1] for profile in tables["synthetic.customer_profiles"]}
    by_persona: dict[str, list[int]] = defaultdict(list)
    for user in customers:
        by_persona[persona[user]].append(orders[user])
    mean = {name: float(np.mean(counts)) for name, counts in by_persona.items()}

    assert 1.3 <= per_customer.mean() <= 2.4  # documented 1.66 - 2.00
    assert 0.38 <= np.mean(per_customer == 0) <= 0.54  # documented 0.43 - 0.48
    assert 0.24 <= np.mean(per_customer >= 2) <= 0.40  # documented 0.29 - 0.35
    # The personas' purchase propensities carry through: loyal customers buy far more.
    assert mean["loyal"] > 3 * mean["regular"] > 3 * mean["occasional"]


def test_customers_who_churned_in_the_history_stop_ordering(year) -> None:
    _, tables = year
    start = _window_start()
    churned_at = {
        profile[0]: profile[3]
        for profile in tables["synthetic.customer_profiles"]
        if profile[3] is not None and profile[3] < start
    }
    last_order: dict[int, str] = {}
    for order in tables["orders"]:
        last_order[order[1]] = max(last_order.get(order[1], ""), order[13])
    last_ticket: dict[int, str] = {}
    for ticket in tables["support_tickets"]:
        last_ticket[ticket[1]] = max(last_ticket.get(ticket[1], ""), ticket[8])

    assert len(churned_at) > 0.2 * YEAR_OF_HISTORY.users
    assert all(
        profile[2] == (profile[3] is not None) for profile in tables["synthetic.customer_profiles"]
    )
    assert all(last_order.get(user, "") < quiet for user, quiet in churned_at.items())
    assert all(last_ticket.get(user, "") < quiet for user, quiet in churned_at.items())
    sessions_after = {session[1] for session in tables["sessions"]}
    assert sessions_after.isdisjoint(churned_at)
