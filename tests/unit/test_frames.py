"""Materialized frames: the same rows, without the lineage later plans would re-analyze."""

from __future__ import annotations

from spark_fixtures import table

from glue_jobs.transforms.frames import materialized
from glue_jobs.transforms.recommendations import co_occurrence

BASKETS = "basket_id string, product_id bigint"
# Baskets s1 {1,2,3}, s2 {1,2}, s3 {2,3}: pairs {1,2} and {2,3} twice, {1,3} once.
BASKET_ROWS = [("s1", 1), ("s1", 2), ("s1", 3), ("s2", 1), ("s2", 2), ("s3", 2), ("s3", 3)]


def test_a_materialized_frame_keeps_its_rows_and_drops_its_lineage(spark) -> None:
    pairs = co_occurrence(table(spark, BASKETS, BASKET_ROWS), 2, 50)
    kept = materialized(pairs)
    expected = sorted(map(tuple, pairs.collect()))
    assert [(product, other, support) for product, other, support, _ in expected] == [
        (1, 2, 2), (2, 1, 2), (2, 3, 2), (3, 2, 2)
    ]  # fmt: skip
    assert sorted(map(tuple, kept.collect())) == expected
    # The plan is now a scan of the computed rows, not the joins and aggregations.
    assert "Join" in pairs._jdf.queryExecution().analyzed().toString()
    assert "Join" not in kept._jdf.queryExecution().analyzed().toString()
