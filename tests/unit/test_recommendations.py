"""Recommendation transforms on hand-built frames; the arithmetic is in the comments.

Decay uses a half-life of one day, so an interaction 1, 2, 10 days before the cut-off
counts 1/2, 1/4, 1/1024 of its kind's weight (view 1, cart add 3, purchase 10).
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import datetime

import pytest
from pyspark.sql import functions as sf
from spark_fixtures import table

from glue_jobs.transforms.recommendations import (
    Interactions,
    RecommendationSettings,
    co_occurrence,
    consumable_categories,
    customer_recommendations,
    exact_sum,
    interactions,
    model_events,
    popular_products,
    top_similar,
    trending_from_counters,
)

CUTOFF = datetime(2026, 10, 1)
SETTINGS = replace(RecommendationSettings(), half_life_days=1.0)
BASKETS = "basket_id string, product_id bigint"
CATALOG = "product_id bigint, category_id bigint, active boolean"
VIEWS = "session_id string, user_id bigint, product_id bigint, occurred_at timestamp"
PURCHASES = "user_id bigint, order_id bigint, product_id bigint, occurred_at timestamp"
SIMILAR = (
    "product_id bigint, relation string, rank smallint, similar_product_id bigint, "
    "score double, support int"
)
POPULAR = (
    "product_id bigint, category_id bigint, score double, rank_overall int, rank_in_category int"
)

# Baskets s1 {1,2,3}, s2 {1,2}, s3 {2,3}, s4 {1,2,4}, s5 {4}, s6 {1}, with a duplicate line.
# Baskets per product: 1 -> 4 (s1 s2 s4 s6), 2 -> 4, 3 -> 2, 4 -> 2.
# Pairs: {1,2} in s1 s2 s4 = 3; {2,3} in s1 s3 = 2; {1,3}, {1,4}, {2,4} once each.
BASKET_ROWS = [
    ("s1", 1), ("s1", 2), ("s1", 3), ("s2", 1), ("s2", 2), ("s2", 2), ("s3", 2), ("s3", 3),
    ("s4", 1), ("s4", 2), ("s4", 4), ("s5", 4), ("s6", 1),
]  # fmt: skip


def _pairs(frame) -> dict[tuple[int, int], tuple[int, float]]:
    return {
        (row["product_id"], row["similar_product_id"]): (row["support"], row["score"])
        for row in frame.collect()
    }


def test_co_occurrence_is_cosine_over_baskets_above_the_minimum_support(spark) -> None:
    pairs = _pairs(co_occurrence(table(spark, BASKETS, BASKET_ROWS), 2, 50))

    assert set(pairs) == {(1, 2), (2, 1), (2, 3), (3, 2)}
    assert pairs[(1, 2)] == (3, pytest.approx(3 / math.sqrt(4 * 4)))  # 0.75
    assert pairs[(2, 1)] == pairs[(1, 2)]
    assert pairs[(2, 3)] == (2, pytest.approx(2 / math.sqrt(4 * 2)))  # 0.7071


def test_oversized_baskets_are_left_out_entirely(spark) -> None:
    # At most 2 products: s1 and s4 go. Left: s2 {1,2}, s3 {2,3}, s5 {4}, s6 {1}.
    # Baskets per product: 1 -> 2, 2 -> 2, 3 -> 1; each pair once.
    pairs = _pairs(co_occurrence(table(spark, BASKETS, BASKET_ROWS), 1, 2))

    assert set(pairs) == {(1, 2), (2, 1), (2, 3), (3, 2)}
    assert pairs[(1, 2)] == (1, pytest.approx(1 / math.sqrt(2 * 2)))
    assert pairs[(3, 2)] == (1, pytest.approx(1 / math.sqrt(1 * 2)))


def test_top_similar_keeps_k_per_product_best_first(spark) -> None:
    pairs = co_occurrence(table(spark, BASKETS, BASKET_ROWS), 1, 50)
    # Product 2: 1 (3/4 = .75), 3 (2/sqrt 8 = .707), 4 (1/sqrt 8 = .354).
    top = top_similar(pairs, "viewed_together", 2).filter("product_id = 2").orderBy("rank")

    assert [(r["rank"], r["similar_product_id"], r["relation"]) for r in top.collect()] == [
        (1, 1, "viewed_together"),
        (2, 3, "viewed_together"),
    ]


def test_interactions_cut_at_the_cutoff_and_skip_cancelled_orders(spark) -> None:
    events = table(
        spark,
        "event_type string, occurred_at timestamp, user_id bigint, session_id string, "
        "properties struct<product_id: bigint, quantity: int>",
        [
            ("product_viewed", "2026-09-30 23:59", 7, "s1", (11, None)),
            ("product_viewed", "2026-10-01 00:00", 7, "s1", (12, None)),  # at the cut-off: later
            ("product_added_to_cart", "2026-09-30 10:00", None, "s2", (13, 2)),
            ("page_viewed", "2026-09-30 10:00", 7, "s1", (None, None)),
        ],
    )
    orders = table(
        spark,
        "id bigint, user_id bigint, status string, placed_at timestamp",
        [(1, 7, "delivered", "2026-09-01 10:00"), (2, 7, "cancelled", "2026-09-02 10:00")],
    )
    items = table(spark, "order_id bigint, product_id bigint", [(1, 21), (1, 22), (2, 23)])

    # The job reads the events narrowed by model_events: the same interactions come out.
    for source in (events, model_events(events)):
        seen = interactions(source, orders, items, CUTOFF)

        assert [r["product_id"] for r in seen.views.collect()] == [11]
        assert [(r["user_id"], r["product_id"]) for r in seen.cart_adds.collect()] == [(None, 13)]
        assert sorted(r["product_id"] for r in seen.purchases.collect()) == [21, 22]
    assert [r["event_type"] for r in model_events(events).collect()] == [
        "product_viewed",
        "product_viewed",
        "product_added_to_cart",
    ]
    assert model_events(events).schema["properties"].dataType.fieldNames() == ["product_id"]


def _seen(spark, views: list[tuple], purchases: list[tuple], carts: list[tuple] = ()):
    return Interactions(
        views=table(spark, VIEWS, views),
        cart_adds=table(spark, VIEWS, list(carts)),
        purchases=table(spark, PURCHASES, purchases),
    )


def test_popularity_weighs_kinds_decays_by_age_and_ranks_within_categories(spark) -> None:
    catalog = table(
        spark, CATALOG, [(1, 10, True), (2, 20, True), (3, 10, True), (4, 20, False), (7, 10, True)]
    )
    seen = _seen(
        spark,
        views=[
            ("s1", None, 1, "2026-09-30 00:00"),  # 1 x 1/2
            ("s1", None, 3, "2026-09-28 00:00"),  # three days old: outside the two days
            ("s2", None, 4, "2026-09-30 00:00"),  # discontinued
            ("s2", None, 7, "2026-09-30 00:00"),  # 1 x 1/2
        ],
        purchases=[(5, 1, 1, "2026-09-30 00:00")],  # 10 x 1/2
        carts=[("s3", None, 2, "2026-09-29 00:00")],  # 3 x 1/4, on the window's edge
    )
    ranked = popular_products(seen, catalog, CUTOFF, replace(SETTINGS, trending_days=2))
    rows = {r["product_id"]: r for r in ranked.collect()}

    assert set(rows) == {1, 2, 7}
    assert rows[1]["score"] == pytest.approx(5.5)
    assert rows[2]["score"] == pytest.approx(0.75)
    assert rows[7]["score"] == pytest.approx(0.5)
    assert [(rows[p]["rank_overall"], rows[p]["rank_in_category"]) for p in (1, 2, 7)] == [
        (1, 1),
        (2, 1),
        (3, 2),
    ]


def test_trending_from_counters_weighs_views_cart_adds_and_units_sold(spark) -> None:
    catalog = table(spark, CATALOG, [(1, 10, True), (2, 10, True), (5, 10, False)])
    counters = table(
        spark,
        "product_id bigint, views bigint, cart_adds bigint, units_sold bigint",
        [(1, 10, 2, 1), (2, 30, 0, 0), (5, 99, 9, 9)],
    )
    rows = {r["product_id"]: r for r in trending_from_counters(counters, catalog).collect()}

    assert set(rows) == {1, 2}  # 5 is discontinued
    assert rows[1]["score"] == pytest.approx(10 + 3 * 2 + 10 * 1)  # 26
    assert rows[2]["score"] == pytest.approx(30)
    assert (rows[2]["rank_overall"], rows[1]["rank_overall"]) == (1, 2)


def test_consumable_categories_are_the_re_bought_ones_with_their_usual_gap(spark) -> None:
    catalog = table(spark, CATALOG, [(1, 10, True), (2, 10, True), (6, 30, True)])
    purchases = table(
        spark,
        PURCHASES,
        [
            # Category 30: (u1, 6) in three orders (gaps 10 and 30 days), (u2, 6) in one,
            # (u3, 6) in two orders 20 days apart -> 2 of 3 pairs re-bought; median gap 20.
            (1, 1, 6, "2026-08-01 00:00"), (1, 2, 6, "2026-08-11 00:00"),
            (1, 3, 6, "2026-09-10 00:00"), (2, 4, 6, "2026-09-01 00:00"),
            (3, 5, 6, "2026-08-01 00:00"), (3, 6, 6, "2026-08-21 00:00"),
            # Category 10: 1 of 4 pairs re-bought; the same product twice in one order is
            # one order.
            (1, 1, 1, "2026-08-01 00:00"), (1, 7, 1, "2026-09-01 00:00"),
            (2, 4, 2, "2026-09-01 00:00"), (2, 4, 2, "2026-09-01 00:00"),
            (3, 5, 1, "2026-08-01 00:00"), (3, 6, 2, "2026-08-21 00:00"),
        ],
    )  # fmt: skip
    found = {
        r["category_id"]: (r["repeat_share"], r["repurchase_days"])
        for r in consumable_categories(purchases, catalog, 0.3).collect()
    }

    assert found == {30: (pytest.approx(2 / 3), pytest.approx(20.0))}


# One customer's history for the per-customer tests. Catalog: 1, 2, 3, 7 in category 10;
# 4 and 5 (discontinued) in 20; 6 in 30, a consumable (u1 and u3 re-buy it: 2 of 3 pairs).
CUSTOMER_CATALOG = [
    (1, 10, True), (2, 10, True), (3, 10, True), (7, 10, True),
    (4, 20, True), (5, 20, False), (6, 30, True),
]  # fmt: skip
CUSTOMER_VIEWS = [("s1", 1, 1, "2026-09-30 00:00")]  # u1 viewed 1 yesterday: weight 1/2
CUSTOMER_PURCHASES = [
    (1, 1, 6, "2026-09-11 00:00"),  # u1 bought the consumable 20 and 10 days ago
    (1, 2, 6, "2026-09-21 00:00"),
    (1, 3, 2, "2026-09-29 00:00"),  # and product 2 two days ago: just bought
    (2, 4, 6, "2025-08-01 00:00"),  # u2 bought 6 over a year ago: no signal left
    (3, 5, 6, "2025-08-01 00:00"),  # u3 too, twice, 30 days apart
    (3, 6, 6, "2025-08-31 00:00"),
]
# Similar to 1: 2 (.9), 5 (.8), 3 (.6), 4 (.5, bought together), 7 (.3).
CUSTOMER_SIMILAR = [
    (1, "viewed_together", 1, 2, 0.9, 5),
    (1, "viewed_together", 2, 5, 0.8, 4),
    (1, "viewed_together", 3, 3, 0.6, 3),
    (1, "bought_together", 1, 4, 0.5, 2),
    (1, "viewed_together", 4, 7, 0.3, 2),
]
# Popular: 7 (score 5, category 10) then 4 (score 2, category 20).
CUSTOMER_POPULAR = [(7, 10, 5.0, 1, 1), (4, 20, 2.0, 2, 1)]


def _recommend(spark, **overrides) -> list[tuple]:
    settings = replace(SETTINGS, consumable_repeat_share=0.5, **overrides)
    frame = customer_recommendations(
        _seen(spark, CUSTOMER_VIEWS, CUSTOMER_PURCHASES),
        table(spark, SIMILAR, CUSTOMER_SIMILAR),
        table(spark, POPULAR, CUSTOMER_POPULAR),
        table(spark, CATALOG, CUSTOMER_CATALOG),
        CUTOFF,
        settings,
    )
    return [
        (r["user_id"], r["rank"], r["product_id"], r["score"], r["reason"], r["reason_product_id"],
         r["reason_category_id"])
        for r in frame.orderBy("user_id", "rank").collect()
    ]  # fmt: skip


def test_customer_recommendations_blend_sources_and_exclude_just_bought_durables(spark) -> None:
    # Learned (weight x similarity): 2 .45, 5 .40, 3 .30, 4 .25, 7 .15; the consumable 6:
    # 2 orders x 10 x min(1, 10 days since / 10-day usual gap) = 20. Scaled by 20 (weight 1):
    # 6 1.0, 3 .015, 4 .0125, 7 .0075. Out: 2 (bought two days ago), 5 (discontinued).
    # Popular in u1's categories (10: 1/2 + 10/4 = 3; 30: tiny, nothing popular): 7 at share
    # 1 x 3, scaled to 1.0. Popular overall (weight .3): 7 .3, 4 .3 x 2/5 = .12.
    # Sums: 7 1.3075 (largest part: popular in 10), 6 1.0, 4 .1325 (popular), 3 .015.
    # u2 and u3 have no signal in the window and get nothing.
    rows = _recommend(spark, max_per_category=2, recommendations_per_customer=10)

    assert rows == [
        (1, 1, 7, pytest.approx(0.0075 + 1.0 + 0.3), "popular_in_category", None, 10),
        (1, 2, 6, pytest.approx(1.0), "bought_again", 6, None),
        (1, 3, 4, pytest.approx(0.0125 + 0.12), "popular", None, None),
        (1, 4, 3, pytest.approx(0.015), "viewed_together", 1, None),
    ]


def test_customer_recommendations_keep_categories_diverse_and_the_top_n(spark) -> None:
    # One per category: 7 keeps category 10, so 3 goes.
    diverse = _recommend(spark, max_per_category=1, recommendations_per_customer=10)
    # Then the top 2.
    short = _recommend(spark, max_per_category=2, recommendations_per_customer=2)

    assert [(r[1], r[2]) for r in diverse] == [(1, 7), (2, 6), (3, 4)]
    assert [(r[1], r[2]) for r in short] == [(1, 7), (2, 6)]


def test_without_similar_products_popularity_fills_in_with_its_reasons(spark) -> None:
    # Only the consumable is learned (1.0); 7 comes as popular in category 10 (1.0 + .3)
    # and 4 as popular overall (.12).
    settings = replace(SETTINGS, consumable_repeat_share=0.5, recommendations_per_customer=5)
    frame = customer_recommendations(
        _seen(spark, CUSTOMER_VIEWS, CUSTOMER_PURCHASES),
        table(spark, SIMILAR, []),
        table(spark, POPULAR, CUSTOMER_POPULAR),
        table(spark, CATALOG, CUSTOMER_CATALOG),
        CUTOFF,
        settings,
    )
    rows = [
        (r["product_id"], r["score"], r["reason"], r["reason_category_id"])
        for r in frame.orderBy("rank").collect()
    ]

    assert rows == [
        (7, pytest.approx(1.3), "popular_in_category", 10),
        (6, pytest.approx(1.0), "bought_again", None),
        (4, pytest.approx(0.12), "popular", None),
    ]


def test_exact_sums_do_not_depend_on_how_rows_are_partitioned(spark) -> None:
    # As doubles, (0.1 + 0.2) + 0.3 = 0.6000000000000001 but (0.3 + 0.2) + 0.1 = 0.6; as
    # decimals of 24 places the three sum to 0.600000000000000005551115, whose double is 0.6.
    rows = [("k", 0.1), ("k", 0.2), ("k", 0.3)]
    ascending = table(spark, "key string, value double", rows).coalesce(1)
    descending = table(spark, "key string, value double", rows[::-1]).coalesce(1)

    def sums(frame, total) -> float:
        row = frame.groupBy("key").agg(total.alias("total")).collect()[0]
        return row["total"]

    assert sums(ascending, sf.sum("value")) != sums(descending, sf.sum("value"))
    assert sums(ascending, exact_sum(sf.col("value"))) == 0.6
    assert sums(descending, exact_sum(sf.col("value"))) == 0.6
