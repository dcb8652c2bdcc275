"""How good the recommendations are: a temporal split, ranking metrics against two
baselines, and how many planted complement pairs the item-to-item tables recover.

It lives beside the transforms it measures because it runs them: the model is built by
glue_jobs.transforms.recommendations on the interactions before a cut-off, exactly as the
job builds it, and judged on what customers viewed and bought after. The job reports these
figures on every run (--holdout_days), the demo prints them and a test asserts them on a
generated shop. The metrics themselves are plain Python over small collected lists.

- hit rate@k: share of customers with at least one of their next items in their top k;
- recall@k: share of a customer's next items found in their top k, averaged;
- NDCG@k: discounted gain of the hits (1 / log2(position + 1)) over the best possible.
Customers judged: known customers with a signal before the cut-off and at least one next
item. Baselines: the k most popular products (the same list for everyone) and k products
drawn uniformly from the active catalog per customer.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from pyspark.sql import DataFrame
from pyspark.sql import functions as sf

from glue_jobs.transforms.frames import materialized
from glue_jobs.transforms.recommendations import (
    RecommendationSettings,
    build_recommendations,
    catalog_products,
    customer_signals,
    interactions,
    materialized_interactions,
)

K = 10
MODELS = ("recommendations", "popularity", "random")
TARGETS = ("next_purchases", "next_views")


@dataclass(frozen=True)
class RankingScores:
    users: int
    hit_rate: float
    recall: float
    ndcg: float


def ranking_scores(
    recommended: Mapping[int, Sequence[int]], relevant: Mapping[int, Collection[int]], k: int = K
) -> RankingScores:
    """Hit rate, recall and NDCG at `k`, averaged over the users of `relevant` with at
    least one relevant item (a user with no list scores zero)."""
    # In user order: the averages then do not depend on the order the lists were collected in.
    judged = sorted(user for user, items in relevant.items() if items)
    hits = recall = ndcg = 0.0
    for user in judged:
        wanted = set(relevant[user])
        top = list(recommended.get(user, ()))[:k]
        found = [position for position, item in enumerate(top) if item in wanted]
        hits += bool(found)
        recall += len(found) / len(wanted)
        ideal = sum(1 / math.log2(position + 2) for position in range(min(len(wanted), k)))
        ndcg += sum(1 / math.log2(position + 2) for position in found) / ideal
    count = len(judged)
    if count == 0:
        return RankingScores(0, 0.0, 0.0, 0.0)
    return RankingScores(count, hits / count, recall / count, ndcg / count)


def complement_recovery(
    similar: Iterable[tuple[int, int]], planted: Iterable[tuple[int, int]]
) -> float:
    """Share of planted (product, complement) pairs whose complement is among the product's
    similar products (`similar`: (product_id, similar_product_id) of any relation)."""
    neighbours: dict[int, set[int]] = defaultdict(set)
    for product, other in similar:
        neighbours[product].add(other)
    pairs = list(planted)
    if not pairs:
        return 0.0
    return sum(companion in neighbours[product] for product, companion in pairs) / len(pairs)


def _lists(frame: DataFrame, key: str, item: str, order: str | None = None) -> dict:
    """{key: [items]} collected from a small frame, in `order` when given."""
    grouped: dict[int, list[int]] = defaultdict(list)
    rows = frame.orderBy(key, order).collect() if order else frame.collect()
    for row in rows:
        grouped[row[key]].append(row[item])
    return dict(grouped)


@dataclass(frozen=True)
class HoldoutReport:
    cutoff: datetime
    horizon_days: int
    # target -> model -> scores
    scores: dict[str, dict[str, RankingScores]]

    def rows(self) -> list[dict]:
        """One row per target and model (the job's reco_holdout_metrics table)."""
        return [
            {
                "cutoff": self.cutoff,
                "horizon_days": self.horizon_days,
                "target": target,
                "model": model,
                "k": K,
                "users": scores.users,
                "hit_rate": scores.hit_rate,
                "recall": scores.recall,
                "ndcg": scores.ndcg,
            }
            for target, by_model in self.scores.items()
            for model, scores in by_model.items()
        ]


def holdout_evaluation(
    events: DataFrame,
    orders: DataFrame,
    order_items: DataFrame,
    products: DataFrame,
    cutoff: datetime,
    horizon_days: int,
    settings: RecommendationSettings,
    seed: int = 0,
) -> HoldoutReport:
    """Build the model on everything before `cutoff`; judge it, popularity and random on
    what known customers viewed and bought in the `horizon_days` after."""
    catalog = materialized(catalog_products(products))
    before = materialized_interactions(interactions(events, orders, order_items, cutoff))
    model = build_recommendations(before, catalog, cutoff, settings)
    end = cutoff + timedelta(days=horizon_days)
    after = interactions(events, orders, order_items, end)
    known = customer_signals(before, cutoff, settings).select("user_id").distinct()

    def next_items(frame: DataFrame) -> dict[int, list[int]]:
        window = (sf.col("occurred_at") >= sf.lit(cutoff)) & sf.col("user_id").isNotNull()
        chosen = frame.filter(window).select("user_id", "product_id").distinct()
        return _lists(chosen.join(known, "user_id"), "user_id", "product_id")

    relevant = {
        "next_purchases": next_items(after.purchases),
        "next_views": next_items(after.views),
    }
    recommended = _lists(
        model.customer_recommendations.filter(sf.col("rank") <= K),
        "user_id",
        "product_id",
        "rank",
    )
    top = [
        row["product_id"]
        for row in model.popular_products.filter(sf.col("rank_overall") <= K)
        .orderBy("rank_overall")
        .collect()
    ]
    active = sorted(row["product_id"] for row in catalog.filter("active").collect())
    rng = random.Random(seed)  # noqa: S311 a baseline's draw, not a secret
    users = sorted({user for items in relevant.values() for user in items})
    drawn = {user: rng.sample(active, min(K, len(active))) for user in users}
    lists = {
        "recommendations": recommended,
        "popularity": dict.fromkeys(users, top),
        "random": {user: [int(p) for p in picks] for user, picks in drawn.items()},
    }
    return HoldoutReport(
        cutoff,
        horizon_days,
        {
            target: {name: ranking_scores(lists[name], relevant[target]) for name in MODELS}
            for target in TARGETS
        },
    )
