"""The recommendations blend and query parsing, pure, on small cases worked out by hand."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lambdas.recommendations.blend import (
    BatchRecommendation,
    Evidence,
    Product,
    SessionProduct,
    SimilarProduct,
    batch_reason,
    rank_weight,
    recommend,
    weighted_seeds,
)
from lambdas.recommendations.query import QueryError, RecommendationQuery


def product(pid: int, category: int = 1) -> Product:
    return Product(pid, f"P{pid}", category, f"C{category}")


def at(minute: int) -> datetime:
    return datetime(2026, 12, 6, 12, minute, tzinfo=UTC)


def test_rank_weight_halves_at_rank_six() -> None:
    assert [rank_weight(r) for r in (1, 2, 6, 11)] == [1.0, 5 / 6, 0.5, 5 / 15]


def test_seeds_newest_first_decayed_carts_boosted_page_product_on_top() -> None:
    session = [
        SessionProduct(product(1), "view", at(1)),
        SessionProduct(product(2), "view", at(9)),
        SessionProduct(product(1), "cart", at(4)),  # 1: latest 12:04, carted
        SessionProduct(product(3), "view", at(7)),
        SessionProduct(product(5), "view", at(2)),  # the page's product, already on top
    ]

    seeds = weighted_seeds(product(5), session)

    assert [(s.product.product_id, round(s.weight, 6)) for s in seeds] == [
        (5, 1.0),
        (2, 0.7),
        (3, 0.49),
        (1, round(0.343 * 1.5, 6)),
    ]


def test_at_most_five_session_seeds() -> None:
    session = [SessionProduct(product(pid), "view", at(pid)) for pid in range(1, 9)]

    assert [s.product.product_id for s in weighted_seeds(None, session)] == [8, 7, 6, 5, 4]


def test_blend_sums_contributions_and_keeps_the_largest_reason() -> None:
    seeds = weighted_seeds(product(1), [SessionProduct(product(2), "view", at(0))])
    evidence = Evidence(
        seeds=seeds,
        similar=[
            SimilarProduct(1, "viewed_together", 1, product(10)),  # 0.6
            SimilarProduct(2, "bought_together", 1, product(10)),  # 0.7 (larger)
            SimilarProduct(1, "bought_together", 2, product(11)),  # 5/6 = 0.833
            SimilarProduct(9, "bought_together", 1, product(12)),  # seed 9 unknown: ignored
        ],
        batch=[
            BatchRecommendation(1, product(13), "popular"),
            BatchRecommendation(2, product(2), "popular"),
        ],
        trending=[product(11), product(14)],
        popular=[product(15)],
        excluded=frozenset({1, 2}),
    )

    chosen = recommend(evidence, limit=10)

    # 10: 1.3, 11: 0.833, 13: 0.8 (batch), then trending 14 (11 listed), popular 15; 2 excluded.
    assert [(r.product.product_id, r.source, r.reason.text) for r in chosen] == [
        (10, "session", "bought together with P2"),
        (11, "session", "bought together with P1"),
        (13, "batch", "popular"),
        (14, "trending", "popular in C1"),
        (15, "popularity", "popular"),
    ]
    assert len(recommend(evidence, limit=2)) == 2


def test_batch_reason_names_a_missing_product_by_id() -> None:
    item = BatchRecommendation(1, product(4), "bought_together", reason_product_id=77)
    category = BatchRecommendation(2, product(4, category=6), "popular_in_category")

    assert batch_reason(item).text == "bought together with product 77"
    assert (batch_reason(category).text, batch_reason(category).category_id) == ("popular in C6", 6)


def test_query_visitor_key_and_defaults() -> None:
    by_user = RecommendationQuery.parse({"user_id": "42", "product_id": "9"})
    by_device = RecommendationQuery.parse(
        {"anonymous_id": "81D58E19-4556-489F-95F7-0C4B6A086B19", "limit": "50"}
    )

    assert (by_user.visitor_key, by_user.limit, by_user.product_id) == ("u:42", 10, 9)
    assert (by_device.visitor_key, by_device.limit) == (
        "a:81d58e19-4556-489f-95f7-0c4b6a086b19",
        50,
    )


def test_query_names_every_bad_parameter_in_one_line() -> None:
    with pytest.raises(QueryError) as raised:
        RecommendationQuery.parse({"anonymous_id": "x", "limit": "0", "page": "2"})

    message = str(raised.value)
    assert "\n" not in message
    assert "anonymous_id must be a UUID" in message
    assert "limit must be a whole number from 1 to 50, got '0'" in message
    assert "unknown parameter 'page'" in message
