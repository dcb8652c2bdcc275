"""Recommendations on a generated shop (temporal split, the generator's planted pairs as
ground truth) and their load into a real PostgreSQL.

Thresholds come from measured values written down in docs/personalization.md ("Figures"):
the model must beat popularity and random on the holdout, recover a share of the planted
complement pairs and find exactly the planted consumables.
"""

from __future__ import annotations

from datetime import date, timedelta

import psycopg
import pytest
from generated_shop import ShopFrames, shop_frames

from data_generators import GenerationSettings
from glue_jobs.build_recommendations import load_reco_tables
from glue_jobs.job_runtime import cutoff_of
from glue_jobs.transforms.recommendation_metrics import complement_recovery, holdout_evaluation
from glue_jobs.transforms.recommendations import (
    BOUGHT_TOGETHER,
    VIEWED_TOGETHER,
    RecommendationSettings,
    catalog_products,
    consumable_categories,
    interactions,
    similar_products,
)
from local_platform.batch_pipeline import jdbc_source

pytestmark = pytest.mark.integration
SHOP = GenerationSettings(users=1500, days=35, seed=8, history_days=180)
HOLDOUT_DAYS = 7
SETTINGS = RecommendationSettings()


@pytest.fixture(scope="module")
def shop(spark, tmp_path_factory: pytest.TempPathFactory) -> ShopFrames:
    return shop_frames(spark, SHOP, tmp_path_factory.mktemp("shop"))


def test_recommendations_beat_popularity_and_random_on_the_holdout(shop) -> None:
    cutoff = cutoff_of(SHOP.end_date) - timedelta(days=HOLDOUT_DAYS)
    report = holdout_evaluation(
        shop.events, shop.orders, shop.order_items, shop.products, cutoff, HOLDOUT_DAYS, SETTINGS
    )

    for target in ("next_purchases", "next_views"):
        scores = report.scores[target]
        model, popularity, chance = (
            scores["recommendations"],
            scores["popularity"],
            scores["random"],
        )
        assert model.users >= 50, target
        assert model.ndcg > popularity.ndcg > chance.ndcg, target
        assert model.hit_rate > popularity.hit_rate > chance.hit_rate, target
        assert model.recall > popularity.recall, target
    # Measured (docs/personalization.md): NDCG@10 on next views 0.389 against popularity's
    # 0.256 (1.5x); on next purchases 0.194 against 0.129, over 59 customers only.
    views = report.scores["next_views"]
    assert views["recommendations"].ndcg >= 1.2 * views["popularity"].ndcg


def test_item_to_item_recovers_the_planted_complements_and_consumables(shop) -> None:
    end = cutoff_of(SHOP.end_date)
    seen = interactions(shop.events, shop.orders, shop.order_items, end)
    similar = similar_products(seen, SETTINGS).collect()
    planted = shop.tables["synthetic.complement_pairs"]
    viewed = {r["product_id"] for r in seen.views.select("product_id").distinct().collect()}

    def found(relation: str, pattern: str) -> float:
        """Share of the pattern's pairs, among anchors viewed at all, found by `relation`."""
        return complement_recovery(
            [
                (r["product_id"], r["similar_product_id"])
                for r in similar
                if r["relation"] == relation
            ],
            [(a, c) for a, c, p in planted if p == pattern and a in viewed],
        )

    # Measured 0.76 of 183 pairs and 0.083 (3 of 36: phones and laptops are seldom bought)
    # (docs/personalization.md).
    assert found(VIEWED_TOGETHER, "together") >= 0.6
    assert found(BOUGHT_TOGETHER, "sequence") >= 0.05
    learned = consumable_categories(
        seen.purchases, catalog_products(shop.products), SETTINGS.consumable_repeat_share
    )
    assert sorted(r["category_id"] for r in learned.collect()) == sorted(
        category for category, _ in shop.tables["synthetic.consumable_categories"]
    )


SIMILAR = (
    "product_id bigint, relation string, rank smallint, similar_product_id bigint, "
    "score double, support int"
)
CUSTOMER = (
    "user_id bigint, rank smallint, product_id bigint, score double, reason string, "
    "reason_product_id bigint, reason_category_id bigint"
)
POPULAR = (
    "product_id bigint, category_id bigint, score double, rank_overall int, rank_in_category int"
)


def _reco_state(url: str) -> dict[str, list[tuple]]:
    with psycopg.connect(url) as conn:
        return {
            "similar": conn.execute(
                "SELECT product_id, relation, rank, similar_product_id, score, support"
                " FROM reco.similar_products ORDER BY 1, 2, 3"
            ).fetchall(),
            "customer": conn.execute(
                "SELECT user_id, rank, product_id, reason, reason_product_id,"
                " reason_category_id FROM reco.customer_recommendations ORDER BY 1, 2"
            ).fetchall(),
            "popular": conn.execute(
                "SELECT product_id, rank_overall FROM reco.popular_products ORDER BY 1"
            ).fetchall(),
            "runs": conn.execute(
                "SELECT run_id, as_of, similar_products, customer_recommendations,"
                " popular_products FROM reco.batch_runs ORDER BY loaded_at, run_id"
            ).fetchall(),
        }


def test_the_load_replaces_the_reco_tables_and_records_the_run_in_one_transaction(
    spark, migrated_database: str
) -> None:
    source = jdbc_source(migrated_database)

    def table(schema: str, rows: list[tuple]):
        return spark.createDataFrame(rows, schema)

    first = {
        "similar_products": table(
            SIMILAR,
            [(1, "viewed_together", 1, 2, 0.5, 3), (1, "bought_together", 1, 3, 0.25, 2)],
        ),
        "customer_recommendations": table(
            CUSTOMER,
            [
                (7, 1, 2, 2.5, "viewed_together", 1, None),
                (7, 2, 9, 1.0, "popular_in_category", None, 4),
            ],
        ),
        "popular_products": table(POPULAR, [(2, 4, 3.0, 1, 1)]),
    }
    counts = load_reco_tables(spark, source, first, "run-1", date(2026, 10, 1))

    assert counts == {"similar_products": 2, "customer_recommendations": 2, "popular_products": 1}
    loaded = _reco_state(migrated_database)
    assert loaded["similar"] == [
        (1, "bought_together", 1, 3, 0.25, 2),
        (1, "viewed_together", 1, 2, 0.5, 3),
    ]
    assert loaded["customer"] == [
        (7, 1, 2, "viewed_together", 1, None),
        (7, 2, 9, "popular_in_category", None, 4),
    ]
    assert loaded["runs"] == [("run-1", date(2026, 10, 1), 2, 2, 1)]

    # A second run replaces every table; one with a row the schema refuses changes nothing.
    second = {**first, "popular_products": table(POPULAR, [(5, 4, 1.0, 1, 1)])}
    load_reco_tables(spark, source, second, "run-2", date(2026, 10, 2))
    before_bad = _reco_state(migrated_database)
    bad = {
        **second,
        "customer_recommendations": table(CUSTOMER, [(7, 1, 2, 2.5, "because", None, None)]),
    }
    with pytest.raises(Exception, match="customer_recommendations_reason_check"):
        load_reco_tables(spark, source, bad, "run-3", date(2026, 10, 3))

    assert before_bad["popular"] == [(5, 1)]
    assert [run[0] for run in before_bad["runs"]] == ["run-1", "run-2"]
    assert _reco_state(migrated_database) == before_bad
