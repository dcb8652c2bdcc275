"""Ranking metrics and complement recovery on lists small enough to score by hand, and the
loader's CSV chunks."""

from __future__ import annotations

import math

import pytest

from glue_jobs.build_recommendations import _csv_chunks
from glue_jobs.transforms.recommendation_metrics import complement_recovery, ranking_scores


def test_ranking_scores_average_hit_rate_recall_and_ndcg_over_judged_users() -> None:
    recommended = {"a": [1, 2, 3, 4], "b": [7, 8], "d": [5]}
    relevant = {"a": {2, 5}, "b": {7}, "c": {9}, "d": set()}
    # a: top 3 finds 2 at position 2 -> hit, recall 1/2,
    #    DCG 1/log2(3), ideal (two relevant) 1 + 1/log2(3).
    # b: 7 first -> hit, recall 1, NDCG 1. c: no list -> zeros. d: nothing relevant, not judged.
    a_ndcg = (1 / math.log2(3)) / (1 + 1 / math.log2(3))

    scores = ranking_scores(recommended, relevant, k=3)

    assert scores.users == 3
    assert scores.hit_rate == pytest.approx(2 / 3)
    assert scores.recall == pytest.approx((0.5 + 1 + 0) / 3)
    assert scores.ndcg == pytest.approx((a_ndcg + 1 + 0) / 3)


def test_ranking_scores_only_look_at_the_top_k() -> None:
    # The hit sits at position 4, one beyond k = 3.
    scores = ranking_scores({"a": [1, 2, 3, 4]}, {"a": {4}}, k=3)
    assert (scores.hit_rate, scores.recall, scores.ndcg) == (0.0, 0.0, 0.0)


def test_ranking_scores_of_nobody_are_zero() -> None:
    assert ranking_scores({"a": [1]}, {}).users == 0


def test_ranking_scores_do_not_depend_on_the_order_users_come_in() -> None:
    # One hit each: recall 1/3, 1/7, 1/5, 1/9 and (two of three) 2/3. Added as doubles in
    # this order the recalls sum to 1.4539682539682541; with d before c, 1.4539682539682537.
    wants = {"a": 3, "b": 7, "c": 5, "d": 9, "e": 3}
    relevant = {user: set(range(count)) for user, count in wants.items()}
    recommended = {user: [0] for user in wants} | {"e": [0, 1]}
    reordered = {user: relevant[user] for user in ("a", "b", "d", "c", "e")}
    assert (1 / 3 + 1 / 7 + 1 / 5 + 1 / 9 + 2 / 3) != (1 / 3 + 1 / 7 + 1 / 9 + 1 / 5 + 2 / 3)

    in_order = ranking_scores(recommended, relevant)
    assert in_order == ranking_scores(recommended, reordered)
    assert in_order.recall == (1 / 3 + 1 / 7 + 1 / 5 + 1 / 9 + 2 / 3) / 5


def test_complement_recovery_is_the_share_of_planted_pairs_found() -> None:
    similar = [(1, 2), (1, 3), (4, 5), (3, 1)]
    planted = [(1, 3), (4, 6), (7, 8)]  # found, wrong neighbour, product without neighbours
    assert complement_recovery(similar, planted) == pytest.approx(1 / 3)
    assert complement_recovery(similar, []) == 0.0


def test_csv_chunks_write_nulls_as_empty_fields_and_split_by_rows(monkeypatch) -> None:
    monkeypatch.setattr("glue_jobs.build_recommendations.COPY_CHUNK_ROWS", 2)
    rows = [
        {"user_id": 1, "reason": "popular", "reason_product_id": None},
        {"user_id": 2, "reason": "bought_again", "reason_product_id": 9},
        {"user_id": 3, "reason": "a, quoted", "reason_product_id": None},
    ]
    chunks = list(_csv_chunks(rows, ("user_id", "reason", "reason_product_id")))

    assert chunks == [b"1,popular,\n2,bought_again,9\n", b'3,"a, quoted",\n']
