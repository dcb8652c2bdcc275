"""Taste: what each customer likes, which products go together, what runs out and is re-bought.

Three structures a recommender can learn, each recorded as ground truth in the `synthetic`
schema so tests can check what was learned:

- category affinities: every customer favours a few leaf categories; one fades and another
  rises, linearly over the simulated timeline (history and window), so taste drifts slowly;
- complement pairs: some products have a companion in a related leaf, looked at and bought
  in the same visit ("together": shoes and a bag) or in a later visit after the first was
  ordered ("sequence": a phone, then a case);
- consumables: products of some leaves are re-bought after a leaf-specific number of days.

Draws come from a generator of their own, so the other streams of a run are unchanged by
them and the same seed gives the same taste.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import accumulate

import numpy as np

from data_generators.catalog import DEPARTMENTS, Catalog
from data_generators.orders import OrderRecord
from data_generators.timeline import MS_PER_DAY

# Share of a customer's product picks drawn from their favourite leaves (the rest follow
# the department in mind and overall popularity, as before taste existed).
TASTE_SHARE = 0.55
# Favourite leaves per customer: slot 0 in the preferred department, slots 1-2 anywhere;
# slot 2 fades out over the timeline while slot 3 fades in.
TASTE_SLOTS = 4
TASTE_CONCENTRATION = 1.0

# (anchor leaf, complement leaf, pattern): each product of the anchor leaf gets one
# companion drawn uniformly from the complement leaf.
COMPLEMENT_LEAVES: tuple[tuple[str, str, str], ...] = (
    ("Phones", "Phone Accessories", "sequence"),
    ("Laptops", "Headphones", "sequence"),
    ("Video Games", "Headphones", "together"),
    ("Cookware", "Small Appliances", "together"),
    ("Shoes", "Bags", "together"),
    ("Makeup", "Skincare", "together"),
    ("Camping", "Cycling", "together"),
    ("Board Games", "Puzzles", "together"),
)
# On an anchor's page the shopper looks at its companion this often; after adding the
# anchor to the cart, this often, and then adds the companion at COMPLEMENT_ADD (instead of
# the persona's per-view rate).
COMPLEMENT_LOOK = 0.25
COMPLEMENT_LOOK_AFTER_ADD = 0.6
COMPLEMENT_ADD = 0.45
# A sequence companion is due this many days (uniform) after the anchor was ordered.
SEQUENCE_DAYS = (2, 14)

# Leaf -> median days until a bought product is wanted again (lognormal, sigma 0.3).
CONSUMABLE_DAYS: dict[str, int] = {
    "Coffee & Tea": 21,
    "Snacks": 14,
    "Pantry": 30,
    "Hair Care": 35,
    "Skincare": 40,
}
CONSUMABLE_SIGMA = 0.3
# On the first visit after an intent falls due, the customer goes to that product this
# often, and adds it to the cart at this rate.
INTENT_RECALL = 0.85
INTENT_ADD = 0.8

# The last durable (not consumable) products a customer bought, which they do not buy again.
OWNED_SLOTS = 8
NO_PRODUCT = 0


@dataclass(frozen=True, slots=True)
class CustomerTaste:
    """A customer's favourite leaves at one moment: category ids and cumulative weights."""

    leaves: tuple[int, ...]
    cumulative: list[float]


@dataclass(frozen=True, slots=True)
class Intent:
    """A product the customer means to look at once `due_ms` has passed."""

    product_id: int
    due_ms: int


class Complements:
    """The planted complement pairs of a catalog."""

    def __init__(self, rng: np.random.Generator, catalog: Catalog) -> None:
        leaf_by_name = {spec.name: leaf for leaf, spec in catalog.leaf_specs.items()}
        self.together: dict[int, int] = {}
        self.sequence: dict[int, int] = {}
        for anchor_leaf, complement_leaf, pattern in COMPLEMENT_LEAVES:
            anchors = np.flatnonzero(catalog.category_id == leaf_by_name[anchor_leaf]) + 1
            companions = np.flatnonzero(catalog.category_id == leaf_by_name[complement_leaf]) + 1
            chosen = companions[rng.integers(0, len(companions), len(anchors))]
            target = self.together if pattern == "together" else self.sequence
            target.update(zip(anchors.tolist(), chosen.tolist(), strict=True))

    def rows(self) -> Iterator[tuple[int, int, str]]:
        """(product_id, complement_product_id, pattern) for synthetic.complement_pairs."""
        for pattern, pairs in (("together", self.together), ("sequence", self.sequence)):
            for anchor, companion in sorted(pairs.items()):
                yield anchor, companion, pattern


class Tastes:
    """Every customer's drifting leaf affinities and pending intent, in flat arrays."""

    def __init__(
        self,
        rng: np.random.Generator,
        catalog: Catalog,
        preferred_department: np.ndarray,
        timeline_ms: tuple[int, int],
    ) -> None:
        users = len(preferred_department)
        self.rng = rng
        self.catalog = catalog
        self.timeline_ms = timeline_ms
        leaves = np.array(sorted(catalog.leaf_specs), dtype=np.int64)
        department = np.array([catalog.department_of_leaf[leaf] for leaf in leaves])
        first_of = np.searchsorted(department, np.arange(len(DEPARTMENTS)))
        size_of = np.bincount(department, minlength=len(DEPARTMENTS))
        preferred = preferred_department.astype(np.int64)
        own = first_of[preferred] + (rng.random(users) * size_of[preferred]).astype(np.int64)
        self.leaves = np.empty((users, TASTE_SLOTS), dtype=np.int16)
        self.leaves[:, 0] = leaves[own]
        self.leaves[:, 1:] = leaves[rng.integers(0, len(leaves), (users, TASTE_SLOTS - 1))]
        alpha = np.full(TASTE_SLOTS - 1, TASTE_CONCENTRATION)
        self.start = np.zeros((users, TASTE_SLOTS), dtype=np.float32)
        self.end = np.zeros((users, TASTE_SLOTS), dtype=np.float32)
        self.start[:, :3] = rng.dirichlet(alpha, users)
        self.end[:, [0, 1, 3]] = rng.dirichlet(alpha, users)
        self.owned = np.zeros((users, OWNED_SLOTS), dtype=np.int32)
        self._owned_next = np.zeros(users, dtype=np.int8)
        self.intent_product = np.zeros(users, dtype=np.int32)
        self.intent_due_ms = np.zeros(users, dtype=np.int64)
        self.consumable_days = {
            leaf: CONSUMABLE_DAYS[spec.name]
            for leaf, spec in catalog.leaf_specs.items()
            if spec.name in CONSUMABLE_DAYS
        }

    def at(self, user: int, moment_ms: int) -> CustomerTaste:
        """Customer `user`'s (population index) favourite leaves at `moment_ms`."""
        first, last = self.timeline_ms
        position = min(max((moment_ms - first) / max(last - first, 1), 0.0), 1.0)
        weights = (1 - position) * self.start[user] + position * self.end[user]
        return CustomerTaste(tuple(self.leaves[user].tolist()), list(accumulate(weights.tolist())))

    def owned_by(self, user: int) -> frozenset[int]:
        """The durable products customer `user` bought last (OWNED_SLOTS at most)."""
        return frozenset(self.owned[user].tolist()) - {NO_PRODUCT}

    def intent(self, user: int) -> Intent | None:
        product = int(self.intent_product[user])
        return Intent(product, int(self.intent_due_ms[user])) if product else None

    def visited(self, user: int, start_ms: int) -> None:
        """A browse visit happened: an intent that was due has had its chance."""
        if self.intent_product[user] and self.intent_due_ms[user] <= start_ms:
            self.intent_product[user] = NO_PRODUCT

    def ordered(self, user: int, order: OrderRecord, complements: Complements) -> None:
        """What an order makes the customer own and want next: a durable product is owned
        (and not bought again while it stays among the last few), and brings the sequence
        companion of an anchor; a consumable is wanted again. A sooner intent is kept."""
        for line in order.lines:
            leaf = self.catalog.category_list[line.product_id - 1]
            median = self.consumable_days.get(leaf)
            if median is not None:
                days = median * float(np.exp(CONSUMABLE_SIGMA * self.rng.standard_normal()))
                self._want(user, line.product_id, order.placed_ms + int(days * MS_PER_DAY))
                continue
            slot = int(self._owned_next[user])
            self.owned[user, slot] = line.product_id
            self._owned_next[user] = (slot + 1) % OWNED_SLOTS
            companion = complements.sequence.get(line.product_id)
            if companion is not None:
                low, high = SEQUENCE_DAYS
                self._want(user, companion, order.placed_ms + self._days(low, high))

    def _days(self, low: int, high: int) -> int:
        return int(self.rng.integers(low, high + 1)) * MS_PER_DAY

    def _want(self, user: int, product: int, due_ms: int) -> None:
        if not self.intent_product[user] or due_ms < self.intent_due_ms[user]:
            self.intent_product[user] = product
            self.intent_due_ms[user] = due_ms

    def affinity_rows(self, user_ids: Iterator[int]) -> Iterator[tuple[int, int, float, float]]:
        """(user_id, category_id, affinity_start, affinity_end) for
        synthetic.customer_affinities; a leaf drawn twice counts once with both weights."""
        for user_id in user_ids:
            index = user_id - 1
            weights: dict[int, list[float]] = {}
            for slot, leaf in enumerate(self.leaves[index].tolist()):
                start, end = weights.setdefault(leaf, [0.0, 0.0])
                weights[leaf] = [
                    start + float(self.start[index, slot]),
                    end + float(self.end[index, slot]),
                ]
            for leaf, (start, end) in sorted(weights.items()):
                yield user_id, leaf, round(start, 6), round(end, 6)
