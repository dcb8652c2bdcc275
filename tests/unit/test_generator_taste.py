"""Taste in the synthetic shop, generated into memory: the ground truth is well formed and
the behaviour shows it (complements looked at together, consumables re-bought, durables
not, favourite leaves drifting). Ranges are documented in docs/data_generation.md ("Taste").
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

import numpy as np
import pytest
from generated_shop import MemoryRows

from data_generators import GenerationSettings
from data_generators.catalog import Catalog
from data_generators.sink import EventLog
from data_generators.store import StoreRun
from data_generators.taste import (
    COMPLEMENT_LEAVES,
    CONSUMABLE_DAYS,
    TASTE_SLOTS,
    Complements,
    Tastes,
)

SHOP = GenerationSettings(users=800, days=28, seed=5, history_days=180)


class _Events(EventLog):
    """An event log that keeps product views per session in memory."""

    def __init__(self) -> None:
        super().__init__(None)
        self.views: dict[str, list[int]] = defaultdict(list)
        self.view_times: list[tuple[int, int]] = []

    def add(self, occurred_ms: int, event: dict) -> None:
        super().add(occurred_ms, event)
        if event["event_type"] == "product_viewed" and event["user_id"] is not None:
            product = event["properties"]["product_id"]
            self.views[event["session_id"]].append(product)
            self.view_times.append((event["user_id"], product, occurred_ms))


@pytest.fixture(scope="module")
def shop() -> tuple[StoreRun, dict[str, list[tuple]], _Events]:
    rows, events = MemoryRows(), _Events()
    run = StoreRun(SHOP, rows, events)
    run.run(progress=False)
    return run, rows.tables, events


def test_affinities_are_weights_over_few_leaves_that_sum_to_one(shop) -> None:
    run, tables, _ = shop
    per_user: dict[int, list[tuple]] = defaultdict(list)
    for user_id, leaf, start, end in tables["synthetic.customer_affinities"]:
        per_user[user_id].append((leaf, start, end))
    leaves = set(run.catalog.leaf_specs)

    assert len(per_user) == SHOP.users
    for rows in per_user.values():
        assert 1 <= len(rows) <= TASTE_SLOTS
        assert {leaf for leaf, _, _ in rows} <= leaves
        assert sum(start for _, start, _ in rows) == pytest.approx(1, abs=1e-5)
        assert sum(end for _, _, end in rows) == pytest.approx(1, abs=1e-5)


def test_complement_pairs_join_the_documented_leaves(shop) -> None:
    run, tables, _ = shop
    catalog = run.catalog
    leaf_names = {leaf: spec.name for leaf, spec in catalog.leaf_specs.items()}
    allowed = {(a, c, p) for a, c, p in COMPLEMENT_LEAVES}
    anchors = [leaf for leaf, name in leaf_names.items() if name in {a for a, _, _ in allowed}]

    pairs = tables["synthetic.complement_pairs"]
    for product, companion, pattern in pairs:
        names = (
            leaf_names[catalog.category_list[product - 1]],
            leaf_names[catalog.category_list[companion - 1]],
        )
        assert (*names, pattern) in allowed
    # Every product of an anchor leaf has exactly one companion.
    assert len(pairs) == sum(catalog.leaf_sizes[leaf] for leaf in anchors)
    assert len({product for product, _, _ in pairs}) == len(pairs)
    consumables = [(leaf, CONSUMABLE_DAYS.get(name)) for leaf, name in leaf_names.items()]
    assert sorted(tables["synthetic.consumable_categories"]) == sorted(
        (leaf, days) for leaf, days in consumables if days is not None
    )


def test_companions_are_viewed_in_the_same_visit_far_above_chance(shop) -> None:
    run, _, events = shop
    together = run.complements.together
    anchored = with_companion = 0
    for products in events.views.values():
        seen = set(products)
        for product in seen & together.keys():
            anchored += 1
            with_companion += together[product] in seen
    share = with_companion / anchored
    # Looked at 25 % of the time from the page (60 % after an add to cart); measured 0.31.
    assert 0.2 <= share <= 0.4


def _repeat_share(tables: dict[str, list[tuple]], catalog: Catalog, leaves: set[int]) -> float:
    orders_of = {order[0]: order[1] for order in tables["orders"]}
    orders_per_pair: dict[tuple[int, int], set[int]] = defaultdict(set)
    for item in tables["order_items"]:
        product = item[2]
        if catalog.category_list[product - 1] in leaves:
            orders_per_pair[(orders_of[item[1]], product)].add(item[1])
    return np.mean([len(orders) >= 2 for orders in orders_per_pair.values()])


def test_consumables_are_re_bought_and_durables_hardly_ever(shop) -> None:
    run, tables, _ = shop
    consumable = set(run.tastes.consumable_days)
    durable = set(run.catalog.leaf_specs) - consumable

    # Measured 0.17 and 0.004 on this shop (a durable comes back once it has dropped out of
    # the last eight owned).
    assert _repeat_share(tables, run.catalog, consumable) >= 0.1
    assert _repeat_share(tables, run.catalog, durable) <= 0.02


def test_views_follow_favourite_leaves_and_drift_from_fading_to_rising_ones(shop) -> None:
    run, _, events = shop
    tastes, catalog = run.tastes, run.catalog
    in_favourite = fading = rising = 0
    for user_id, product, _ in events.view_times:
        leaf = catalog.category_list[product - 1]
        slots = tastes.leaves[user_id - 1].tolist()
        in_favourite += leaf in slots
        if slots[2] != slots[3]:
            fading += leaf == slots[2]
            rising += leaf == slots[3]
    # 55 % of picks come from the favourite leaves, plus what popularity puts there
    # (measured 0.62); of the fading and rising leaves, measured 558 and 2,160 views.
    assert in_favourite / len(events.view_times) >= 0.55
    # The window is the last 28 of 208 days: rising leaves already outweigh fading ones.
    assert rising > fading


def test_tastes_drift_linearly_between_their_ends() -> None:
    catalog = Catalog(np.random.default_rng(1), 400)
    start_ms = int(datetime(2026, 1, 1).timestamp() * 1000)
    tastes = Tastes(np.random.default_rng(2), catalog, np.array([0, 3]), (start_ms, start_ms + 100))
    halfway = tastes.at(1, start_ms + 50)
    weights = np.diff([0.0, *halfway.cumulative])

    assert halfway.leaves == tuple(tastes.leaves[1].tolist())
    assert weights == pytest.approx(0.5 * tastes.start[1] + 0.5 * tastes.end[1], abs=1e-6)
    assert tastes.start[1, 3] == 0  # slot 3 rises from nothing
    assert tastes.end[1, 2] == 0  # slot 2 fades to nothing
    # Slot 0 lies in the preferred department (Electronics for customer 0).
    assert catalog.department_of_leaf[int(tastes.leaves[0, 0])] == 0


def test_same_seed_same_complements() -> None:
    catalog = Catalog(np.random.default_rng(3), 500)
    first = Complements(np.random.default_rng(4), catalog)
    again = Complements(np.random.default_rng(4), catalog)
    assert list(first.rows()) == list(again.rows())
