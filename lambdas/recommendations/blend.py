"""Rank a visitor's recommendations from what the database holds about them; pure, no I/O.

The live session leads: products similar to what the visitor is looking at and last viewed
or carted (seeds, weighted by recency), then the customer's batch list, then trending
products in the seeds' categories, then overall popularity. Batch models and similarity
tables score on scales of their own, so only ranks are combined: the k-th item of a list
weighs RANK_HALF / (RANK_HALF + k - 1) of its first.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

Relation = Literal["bought_together", "viewed_together"]
ReasonKind = Literal[
    "bought_together", "viewed_together", "bought_again", "popular_in_category", "popular"
]
Source = Literal["session", "batch", "trending", "popularity"]
Degradation = Literal["no_batch_run", "unknown_user", "unknown_product", "no_history"]

# The newest seed weighs 1, each older one RECENCY_DECAY of the one before.
RECENCY_DECAY = 0.7
# A carted product says more about the visitor than a viewed one.
CART_BOOST = 1.5
# How many distinct session products become seeds (the page's product comes on top).
MAX_SEEDS = 5
RANK_HALF = 5.0
RELATION_WEIGHT: dict[str, float] = {"bought_together": 1.0, "viewed_together": 0.6}
# The batch list's first item weighs this against the newest seed's most similar product:
# below it (what the visitor does now leads) and above the second seed's (0.7).
BATCH_WEIGHT = 0.8


@dataclass(frozen=True)
class Product:
    product_id: int
    name: str
    category_id: int
    category_name: str


@dataclass(frozen=True)
class SessionProduct:
    """A row of realtime.visitor_recent_products, with the product's name and category."""

    product: Product
    action: Literal["view", "cart"]
    occurred_at: datetime


@dataclass(frozen=True)
class Seed:
    product: Product
    weight: float


@dataclass(frozen=True)
class SimilarProduct:
    """`product` is the rank-th most similar to seed `seed_id` by `relation`."""

    seed_id: int
    relation: Relation
    rank: int
    product: Product


@dataclass(frozen=True)
class BatchRecommendation:
    rank: int
    product: Product
    reason: ReasonKind
    reason_product_id: int | None = None
    reason_product_name: str | None = None  # None when the product is not in the catalogue
    reason_category_id: int | None = None
    reason_category_name: str | None = None


@dataclass(frozen=True)
class Reason:
    kind: ReasonKind
    text: str
    product_id: int | None = None
    category_id: int | None = None


@dataclass(frozen=True)
class Recommendation:
    product: Product
    source: Source
    reason: Reason


@dataclass(frozen=True)
class Evidence:
    """What the database holds for one request; lists in the order the tables rank them."""

    seeds: Sequence[Seed] = ()
    similar: Sequence[SimilarProduct] = ()
    batch: Sequence[BatchRecommendation] = ()
    trending: Sequence[Product] = ()  # by category (seeds' order), then by live activity
    popular: Sequence[Product] = ()
    popular_is_live: bool = False  # popularity from the live counters (no batch table)
    excluded: frozenset[int] = field(default_factory=frozenset)


def rank_weight(rank: int) -> float:
    return RANK_HALF / (RANK_HALF + rank - 1)


def weighted_seeds(context: Product | None, session: Iterable[SessionProduct]) -> list[Seed]:
    """The page's product (weight 1), then the session's distinct products newest first,
    each RECENCY_DECAY of the one before, carted ones boosted; at most MAX_SEEDS from the
    session. A product both viewed and carted counts once, at its latest time, boosted."""
    latest: dict[int, SessionProduct] = {}
    carted: set[int] = set()
    for row in session:
        pid = row.product.product_id
        if row.action == "cart":
            carted.add(pid)
        if pid not in latest or row.occurred_at > latest[pid].occurred_at:
            latest[pid] = row
    ordered = sorted(
        latest.values(), key=lambda row: (-row.occurred_at.timestamp(), row.product.product_id)
    )
    seeds = [Seed(context, 1.0)] if context is not None else []
    session_seeds = [
        row.product
        for row in ordered
        if context is None or row.product.product_id != context.product_id
    ]
    for product in session_seeds[:MAX_SEEDS]:
        weight = RECENCY_DECAY ** len(seeds) * (CART_BOOST if product.product_id in carted else 1.0)
        seeds.append(Seed(product, weight))
    return seeds


def recommend(evidence: Evidence, limit: int) -> list[Recommendation]:
    """At most `limit` products, none excluded, none twice: blended candidates by score,
    then trending and popular products to fill the list."""
    scored = _blend(evidence)
    chosen: list[Recommendation] = []
    seen = set(evidence.excluded)
    for recommendation in scored + _fallbacks(evidence):
        if len(chosen) == limit:
            break
        if recommendation.product.product_id not in seen:
            seen.add(recommendation.product.product_id)
            chosen.append(recommendation)
    return chosen


def _blend(evidence: Evidence) -> list[Recommendation]:
    """Candidates from the seeds' similar products and the batch list, by summed weight;
    each carries the reason of its largest single contribution."""
    totals: dict[int, float] = {}
    best: dict[int, tuple[float, Recommendation]] = {}

    def add(weight: float, recommendation: Recommendation) -> None:
        pid = recommendation.product.product_id
        totals[pid] = totals.get(pid, 0.0) + weight
        if pid not in best or weight > best[pid][0]:
            best[pid] = (weight, recommendation)

    seeds = {seed.product.product_id: seed for seed in evidence.seeds}
    for similar in evidence.similar:
        seed = seeds.get(similar.seed_id)
        if seed is None:
            continue
        weight = seed.weight * RELATION_WEIGHT[similar.relation] * rank_weight(similar.rank)
        verb = "bought" if similar.relation == "bought_together" else "viewed"
        reason = Reason(
            similar.relation, f"{verb} together with {seed.product.name}", seed.product.product_id
        )
        add(weight, Recommendation(similar.product, "session", reason))
    for item in evidence.batch:
        add(
            BATCH_WEIGHT * rank_weight(item.rank),
            Recommendation(item.product, "batch", batch_reason(item)),
        )
    order = sorted(totals, key=lambda pid: (-totals[pid], pid))
    return [best[pid][1] for pid in order]


def batch_reason(item: BatchRecommendation) -> Reason:
    """The batch job's reason in words, naming the product or category it refers to."""
    if item.reason in ("bought_together", "viewed_together"):
        verb = "bought" if item.reason == "bought_together" else "viewed"
        name = item.reason_product_name or f"product {item.reason_product_id}"
        return Reason(item.reason, f"{verb} together with {name}", item.reason_product_id)
    if item.reason == "bought_again":
        return Reason(item.reason, "you bought it before", item.product.product_id)
    if item.reason == "popular_in_category":
        category_id = item.reason_category_id or item.product.category_id
        name = item.reason_category_name or item.product.category_name
        return Reason(item.reason, f"popular in {name}", category_id=category_id)
    return Reason("popular", "popular")


def _fallbacks(evidence: Evidence) -> list[Recommendation]:
    trending = [
        Recommendation(
            product,
            "trending",
            Reason(
                "popular_in_category",
                f"popular in {product.category_name}",
                category_id=product.category_id,
            ),
        )
        for product in evidence.trending
    ]
    source: Source = "trending" if evidence.popular_is_live else "popularity"
    popular = [
        Recommendation(product, source, Reason("popular", "popular"))
        for product in evidence.popular
    ]
    return trending + popular
