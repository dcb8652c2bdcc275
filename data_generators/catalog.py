"""The product catalog: a two-level category tree, prices by category, Zipf popularity.

Each leaf category has its own price level and spread (lognormal, so a few items are much
dearer than the median), its own defect and return rates (used by the after-sales model),
and products whose popularity follows a Zipf law over a random global ranking.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from itertools import accumulate

import numpy as np

ZIPF_EXPONENT = 1.1
# Shoppers who arrive with a department in mind draw within it this often.
DEPARTMENT_AFFINITY = 0.5


@dataclass(frozen=True)
class LeafSpec:
    """A leaf category: price level (median, lognormal sigma), after-sales rates, nouns."""

    name: str
    price_median: float
    price_sigma: float
    defect_rate: float
    return_rate: float
    nouns: tuple[str, ...]


@dataclass(frozen=True)
class DepartmentSpec:
    name: str
    brands: tuple[str, ...]
    leaves: tuple[LeafSpec, ...]


DEPARTMENTS: tuple[DepartmentSpec, ...] = (
    DepartmentSpec(
        "Electronics",
        ("Voltra", "Nimbus", "Kestrel", "Arcline"),
        (
            LeafSpec("Phones", 420, 0.45, 0.030, 0.04, ("smartphone", "phone")),
            LeafSpec("Laptops", 950, 0.35, 0.030, 0.05, ("laptop", "notebook", "ultrabook")),
            LeafSpec("Headphones", 110, 0.70, 0.040, 0.06, ("headphones", "earbuds", "headset")),
            LeafSpec("Phone Accessories", 22, 0.60, 0.050, 0.04, ("charger", "case", "cable")),
            LeafSpec("Smart Home", 75, 0.60, 0.040, 0.05, ("smart plug", "camera", "speaker")),
        ),
    ),
    DepartmentSpec(
        "Home & Kitchen",
        ("Hearthly", "Copperleaf", "Maison Nord"),
        (
            LeafSpec("Cookware", 48, 0.55, 0.020, 0.04, ("skillet", "saucepan", "dutch oven")),
            LeafSpec("Small Appliances", 85, 0.50, 0.035, 0.05, ("blender", "kettle", "toaster")),
            LeafSpec("Bedding", 60, 0.45, 0.015, 0.07, ("duvet", "pillow", "sheet set")),
            LeafSpec("Home Decor", 32, 0.70, 0.020, 0.06, ("vase", "lamp", "mirror", "rug")),
        ),
    ),
    DepartmentSpec(
        "Fashion",
        ("Linea", "Northbound", "Atelier Sol", "Reverie"),
        (
            LeafSpec("Women's Clothing", 45, 0.50, 0.015, 0.16, ("dress", "blouse", "jacket")),
            LeafSpec("Men's Clothing", 42, 0.50, 0.015, 0.13, ("shirt", "chinos", "sweater")),
            LeafSpec("Shoes", 78, 0.40, 0.020, 0.18, ("sneakers", "boots", "loafers")),
            LeafSpec("Bags", 55, 0.60, 0.015, 0.10, ("backpack", "tote", "wallet")),
        ),
    ),
    DepartmentSpec(
        "Beauty",
        ("Lumen", "Petalry", "Aurelle"),
        (
            LeafSpec("Skincare", 24, 0.50, 0.010, 0.03, ("serum", "moisturiser", "cleanser")),
            LeafSpec("Makeup", 18, 0.45, 0.010, 0.04, ("lipstick", "mascara", "foundation")),
            LeafSpec("Fragrance", 68, 0.40, 0.010, 0.03, ("eau de parfum", "cologne")),
            LeafSpec("Hair Care", 15, 0.45, 0.010, 0.02, ("shampoo", "conditioner", "hair oil")),
        ),
    ),
    DepartmentSpec(
        "Sports & Outdoors",
        ("Ridgeway", "Tempo", "Alpenglow"),
        (
            LeafSpec("Fitness", 38, 0.75, 0.025, 0.06, ("yoga mat", "dumbbells", "kettlebell")),
            LeafSpec("Camping", 72, 0.70, 0.025, 0.05, ("tent", "sleeping bag", "stove")),
            LeafSpec("Cycling", 95, 0.95, 0.030, 0.05, ("helmet", "bike light", "saddle")),
            LeafSpec("Team Sports", 28, 0.50, 0.020, 0.05, ("football", "basketball", "shin pads")),
        ),
    ),
    DepartmentSpec(
        "Books & Media",
        ("Paperlight", "Inkwell", "Longplay"),
        (
            LeafSpec("Fiction", 14, 0.30, 0.005, 0.02, ("novel", "thriller", "anthology")),
            LeafSpec("Non-fiction", 19, 0.30, 0.005, 0.02, ("biography", "cookbook", "history")),
            LeafSpec("Video Games", 45, 0.35, 0.010, 0.03, ("video game", "game bundle")),
        ),
    ),
    DepartmentSpec(
        "Toys & Games",
        ("Brickwise", "Tumble", "Puzzlewood"),
        (
            LeafSpec("Building Sets", 36, 0.60, 0.015, 0.04, ("building set", "construction kit")),
            LeafSpec("Board Games", 29, 0.40, 0.010, 0.03, ("board game", "card game")),
            LeafSpec("Puzzles", 17, 0.40, 0.010, 0.02, ("jigsaw puzzle", "3d puzzle")),
        ),
    ),
    DepartmentSpec(
        "Grocery",
        ("Harvest & Co", "Roastery Nine"),
        (
            LeafSpec("Coffee & Tea", 12, 0.40, 0.010, 0.005, ("coffee beans", "green tea")),
            LeafSpec("Snacks", 5, 0.40, 0.010, 0.005, ("granola", "crackers", "trail mix")),
            LeafSpec("Pantry", 7, 0.50, 0.010, 0.005, ("olive oil", "pasta", "spice set")),
        ),
    ),
)

_ADJECTIVES = (
    "Classic", "Essential", "Pro", "Compact", "Premium", "Everyday", "Lite", "Signature",
    "Eco", "Deluxe", "Studio", "Travel", "Urban", "Max", "Mini", "Select",
)  # fmt: skip


def slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower().replace("'", "")).strip("-")


def catalog_size(users: int) -> int:
    """Number of products: grows with the shop, sub-linearly, within sensible bounds."""
    return int(np.clip(round(30 * users**0.5), 300, 20_000))


@dataclass(frozen=True)
class Category:
    id: int
    parent_id: int | None
    name: str
    slug: str


class Catalog:
    """Categories and products, indexed 0..n-1 (product id = index + 1)."""

    def __init__(self, rng: np.random.Generator, n_products: int) -> None:
        self.categories: list[Category] = []
        self.leaf_specs: dict[int, LeafSpec] = {}
        self.department_of_leaf: dict[int, int] = {}
        leaf_ids: list[int] = []
        next_id = len(DEPARTMENTS) + 1
        for dept_index, dept in enumerate(DEPARTMENTS):
            dept_id = dept_index + 1
            self.categories.append(Category(dept_id, None, dept.name, slugify(dept.name)))
            for leaf in dept.leaves:
                slug = f"{slugify(dept.name)}-{slugify(leaf.name)}"
                self.categories.append(Category(next_id, dept_id, leaf.name, slug))
                self.leaf_specs[next_id] = leaf
                self.department_of_leaf[next_id] = dept_index
                leaf_ids.append(next_id)
                next_id += 1
        self.category_by_id = {c.id: c for c in self.categories}

        # Every leaf gets a product; the rest are spread by uneven (Dirichlet) leaf sizes.
        leaf_shares = rng.dirichlet(np.full(len(leaf_ids), 2.0))
        extra = rng.choice(len(leaf_ids), size=max(0, n_products - len(leaf_ids)), p=leaf_shares)
        leaf_of = np.sort(np.concatenate([np.arange(len(leaf_ids)), extra]))[:n_products]
        self.size = len(leaf_of)
        self.category_id = np.asarray(leaf_ids, dtype=np.int64)[leaf_of]
        self.department = np.array([self.department_of_leaf[c] for c in self.category_id])

        medians = np.array([self.leaf_specs[c].price_median for c in self.category_id])
        sigmas = np.array([self.leaf_specs[c].price_sigma for c in self.category_id])
        raw_price = medians * np.exp(sigmas * rng.standard_normal(self.size))
        self.price_cents = charm_price_cents(raw_price)
        self.cost_cents = np.round(self.price_cents * rng.uniform(0.35, 0.65, self.size)).astype(
            np.int64
        )
        self.discontinued = rng.random(self.size) < 0.03

        ranks = rng.permutation(self.size)
        weights = 1.0 / (ranks + 1.0) ** ZIPF_EXPONENT
        self.popularity = weights / weights.sum()
        self._cumulative = list(accumulate(self.popularity.tolist()))
        self._department_products: list[tuple[list[int], list[float]]] = []
        for dept_index in range(len(DEPARTMENTS)):
            members = np.flatnonzero(self.department == dept_index)
            self._department_products.append(
                (members.tolist(), list(accumulate(self.popularity[members].tolist())))
            )
        self.leaf_sizes = {c: int((self.category_id == c).sum()) for c in leaf_ids}
        self._leaf_products: dict[int, tuple[list[int], list[float]]] = {}
        for leaf in leaf_ids:
            members = np.flatnonzero(self.category_id == leaf)
            self._leaf_products[leaf] = (
                members.tolist(),
                list(accumulate(self.popularity[members].tolist())),
            )

        self.brands: list[str] = []
        self.names: list[str] = []
        brand_draws = rng.random(self.size)
        noun_draws = rng.random(self.size)
        adjective_draws = rng.integers(0, len(_ADJECTIVES), self.size)
        for i, category_id in enumerate(self.category_id.tolist()):
            dept = DEPARTMENTS[self.department_of_leaf[category_id]]
            nouns = self.leaf_specs[category_id].nouns
            brand = dept.brands[int(brand_draws[i] * len(dept.brands))]
            noun = nouns[int(noun_draws[i] * len(nouns))]
            self.brands.append(brand)
            self.names.append(f"{brand} {_ADJECTIVES[adjective_draws[i]]} {noun.title()}")
        self.price_list = self.price_cents.tolist()
        self.category_list = self.category_id.tolist()

    def sample(self, draw: float, department: int | None = None) -> int:
        """Product index for a uniform `draw`: by popularity, optionally within a department."""
        if department is None:
            return min(bisect_right(self._cumulative, draw * self._cumulative[-1]), self.size - 1)
        return _pick(self._department_products[department], draw)

    def sample_in_leaf(self, draw: float, leaf: int) -> int:
        """Product index for a uniform `draw`, by popularity within leaf category `leaf`."""
        return _pick(self._leaf_products[leaf], draw)


def _pick(members_and_cumulative: tuple[list[int], list[float]], draw: float) -> int:
    members, cumulative = members_and_cumulative
    return members[min(bisect_right(cumulative, draw * cumulative[-1]), len(members) - 1)]


def charm_price_cents(raw_price: np.ndarray) -> np.ndarray:
    """Shop-style prices: whole dollars minus a cent (49.99) above $5, else .49/.99 steps."""
    dollars = np.maximum(np.round(raw_price), 1.0)
    above = dollars * 100 - 1
    below = np.maximum(np.round(raw_price * 2), 1.0) * 50 - 1
    return np.where(raw_price >= 5, above, below).astype(np.int64)
