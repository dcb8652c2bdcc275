"""The taste ground truth in PostgreSQL: written with the store, consistent with the
catalog, replaced by --reset."""

from __future__ import annotations

import psycopg
import pytest

from data_generators import GenerationSettings, generate_store
from data_generators.taste import COMPLEMENT_LEAVES, CONSUMABLE_DAYS

pytestmark = pytest.mark.integration
SHOP = GenerationSettings(users=200, days=7, seed=4, history_days=30)


def _rows(url: str, sql: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchall()


def test_ground_truth_tables_are_written_and_replaced_on_reset(migrated_database: str) -> None:
    generate_store(SHOP, migrated_database, progress=False)
    first = _rows(migrated_database, "SELECT count(*) FROM synthetic.customer_affinities")
    generate_store(SHOP, migrated_database, reset=True, progress=False)

    assert _rows(migrated_database, "SELECT count(*) FROM synthetic.customer_affinities") == first
    assert _rows(migrated_database, "SELECT history_days FROM synthetic.generation_runs") == [(30,)]
    # Every customer's weights sum to one at both ends.
    sums = _rows(
        migrated_database,
        "SELECT count(*), min(s), max(s), min(e), max(e) FROM (SELECT user_id,"
        " sum(affinity_start) s, sum(affinity_end) e FROM synthetic.customer_affinities"
        " GROUP BY user_id) t",
    )
    (users, low_start, high_start, low_end, high_end) = sums[0]
    assert users == SHOP.users
    for total in (low_start, high_start, low_end, high_end):
        assert total == pytest.approx(1, abs=1e-5)
    # Pairs join the documented leaves, named as the catalog names them.
    pairs = _rows(
        migrated_database,
        "SELECT DISTINCT a.name, b.name, p.pattern FROM synthetic.complement_pairs p"
        " JOIN products x ON x.id = p.product_id JOIN categories a ON a.id = x.category_id"
        " JOIN products y ON y.id = p.complement_product_id"
        " JOIN categories b ON b.id = y.category_id",
    )
    assert set(pairs) == set(COMPLEMENT_LEAVES)
    consumables = _rows(
        migrated_database,
        "SELECT c.name, s.repurchase_days FROM synthetic.consumable_categories s"
        " JOIN categories c ON c.id = s.category_id",
    )
    assert dict(consumables) == CONSUMABLE_DAYS
