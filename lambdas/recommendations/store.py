"""Read what the database holds for one recommendations request: the latest batch run, the
visitor's live session, the seeds' similar products, the customer's batch list, and the
trending and popular products to fall back on (contracts/oltp/migrations/V007).

One round trip in the common case, pipelined: batch run, user, page product, session, batch
list and the similar products of the possible seeds. A second reads the fallbacks only when
those cannot fill the list. "Trending" is a product's live activity in realtime.product_counters
(counted since the stream started), weighted as contracts/shopper_signals.py says.

Every query returns only active catalogue products, with their names and categories, so the
blend has nothing left to look up; a product the batch tables or the stream name but the
catalogue does not (yet) hold is skipped. Needs only what the reco_reader role may read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import psycopg

from contracts.shopper_signals import counters_trend_sql
from lambdas.recommendations.blend import (
    MAX_SEEDS,
    BatchRecommendation,
    Degradation,
    Evidence,
    Product,
    SessionProduct,
    SimilarProduct,
    weighted_seeds,
)
from lambdas.recommendations.query import RecommendationQuery

# Similar products read per seed and relation (a rank-10 product weighs a third of the
# first), and batch items per customer (at least the largest limit).
SIMILAR_DEPTH = 10
BATCH_DEPTH = 50

_HEAD = """
    SELECT r.run_id, r.as_of,
           EXISTS (SELECT 1 FROM users WHERE id = %(user_id)s),
           p.id, p.name, p.category_id, c.name
    FROM (SELECT) AS one
    LEFT JOIN LATERAL (
        SELECT run_id, as_of FROM reco.batch_runs ORDER BY loaded_at DESC, run_id DESC LIMIT 1
    ) AS r ON true
    LEFT JOIN products AS p ON p.id = %(product_id)s
    LEFT JOIN categories AS c ON c.id = p.category_id
"""
_SESSION = """
    SELECT v.action, v.occurred_at, p.id, p.name, p.category_id, c.name
    FROM realtime.visitor_recent_products AS v
    JOIN products AS p ON p.id = v.product_id
    JOIN categories AS c ON c.id = p.category_id
    WHERE v.visitor_key = %s
    ORDER BY v.occurred_at DESC, v.product_id, v.action
"""
_BATCH = """
    SELECT r.rank, r.reason, r.reason_product_id, rp.name, r.reason_category_id, rc.name,
           p.id, p.name, p.category_id, c.name
    FROM reco.customer_recommendations AS r
    JOIN products AS p ON p.id = r.product_id AND p.status = 'active'
    JOIN categories AS c ON c.id = p.category_id
    LEFT JOIN products AS rp ON rp.id = r.reason_product_id
    LEFT JOIN categories AS rc ON rc.id = r.reason_category_id
    WHERE r.user_id = %s
    ORDER BY r.rank
    LIMIT %s
"""
# Similar products of every product that can be a seed: the page's and the session's most
# recent catalogue products (one more than MAX_SEEDS, in case the page's is among them), in
# the order weighted_seeds takes them, so this goes in the same round trip as the session.
_SIMILAR = """
    SELECT s.product_id, s.relation, s.rank, p.id, p.name, p.category_id, c.name
    FROM reco.similar_products AS s
    JOIN products AS p ON p.id = s.similar_product_id AND p.status = 'active'
    JOIN categories AS c ON c.id = p.category_id
    WHERE s.rank <= %(depth)s AND s.product_id IN (
        SELECT %(product_id)s::bigint
        UNION ALL
        (SELECT v.product_id
         FROM realtime.visitor_recent_products AS v
         JOIN products AS seed ON seed.id = v.product_id
         WHERE v.visitor_key = %(visitor_key)s
         GROUP BY v.product_id
         ORDER BY max(v.occurred_at) DESC, v.product_id
         LIMIT %(seeds)s)
    )
"""
_TREND = counters_trend_sql("pc")
# The most active products of each category, categories in the order given.
_TRENDING = f"""
    SELECT id, name, category_id, category_name
    FROM (
        SELECT p.id, p.name, p.category_id, c.name AS category_name, wanted.priority,
               {_TREND} AS trend,
               row_number() OVER (
                   PARTITION BY wanted.priority
                   ORDER BY {_TREND} DESC, p.id
               ) AS place
        FROM unnest(%s::bigint[]) WITH ORDINALITY AS wanted(category_id, priority)
        JOIN products AS p ON p.category_id = wanted.category_id AND p.status = 'active'
        JOIN realtime.product_counters AS pc ON pc.product_id = p.id
        JOIN categories AS c ON c.id = p.category_id
    ) AS ranked
    WHERE place <= %s
    ORDER BY priority, trend DESC, id
"""  # noqa: S608 the trend is made of the contract's constant weights
# The batch job's most popular products.
_POPULAR = """
    SELECT p.id, p.name, p.category_id, c.name
    FROM reco.popular_products AS pp
    JOIN products AS p ON p.id = pp.product_id AND p.status = 'active'
    JOIN categories AS c ON c.id = p.category_id
    ORDER BY pp.rank_overall, p.id
    LIMIT %s
"""
# The most active products on the stream, when no batch popularity is loaded.
_LIVE_POPULAR = f"""
    SELECT p.id, p.name, p.category_id, c.name
    FROM realtime.product_counters AS pc
    JOIN products AS p ON p.id = pc.product_id AND p.status = 'active'
    JOIN categories AS c ON c.id = p.category_id
    ORDER BY {_TREND} DESC, p.id
    LIMIT %s
"""  # noqa: S608 the trend is made of the contract's constant weights


@dataclass(frozen=True)
class BatchRun:
    run_id: str
    as_of: date


@dataclass(frozen=True)
class Lookup:
    """The evidence for the blend, and what the response says about how it was found."""

    evidence: Evidence
    batch_run: BatchRun | None
    degraded: tuple[Degradation, ...]


def look_up(conn: psycopg.Connection, query: RecommendationQuery, limit: int) -> Lookup:
    """Everything the blend needs to rank `limit` products for the query's visitor."""
    with conn.pipeline():
        head = conn.execute(_HEAD, {"user_id": query.user_id, "product_id": query.product_id})
        session_rows = conn.execute(_SESSION, (query.visitor_key,))
        batch_rows = conn.execute(_BATCH, (query.user_id, BATCH_DEPTH)) if query.user_id else None
        similar_rows = conn.execute(
            _SIMILAR,
            {
                "depth": SIMILAR_DEPTH,
                "product_id": query.product_id,
                "visitor_key": query.visitor_key,
                "seeds": MAX_SEEDS + 1,
            },
        )
    run_id, as_of, user_known, *context_row = head.fetchall()[0]  # one row, always
    context = _product(context_row) if context_row[0] is not None else None
    session = [SessionProduct(_product(r[2:]), r[0], r[1]) for r in session_rows.fetchall()]
    batch = [_batch_recommendation(r) for r in batch_rows.fetchall()] if batch_rows else []
    seeds = weighted_seeds(context, session)
    seed_ids = {seed.product.product_id for seed in seeds}
    similar = [
        SimilarProduct(r[0], r[1], r[2], _product(r[3:]))
        for r in similar_rows.fetchall()
        if r[0] in seed_ids
    ]
    excluded = {row.product.product_id for row in session}
    if query.product_id is not None:
        excluded.add(query.product_id)
    evidence = Evidence(seeds=seeds, similar=similar, batch=batch, excluded=frozenset(excluded))
    candidates = {item.product.product_id for item in [*similar, *batch]}
    if len(candidates - excluded) < limit:  # the blend alone cannot fill the list
        categories = list(dict.fromkeys(seed.product.category_id for seed in seeds))
        evidence = _with_fallbacks(conn, evidence, categories, 2 * limit + len(excluded))
    degraded: list[Degradation] = []
    if run_id is None:
        degraded.append("no_batch_run")
    if query.user_id is not None and not user_known:
        degraded.append("unknown_user")
    if query.product_id is not None and context is None:
        degraded.append("unknown_product")
    if not session and not batch:
        degraded.append("no_history")
    batch_run = BatchRun(run_id, as_of) if run_id is not None else None
    return Lookup(evidence, batch_run, tuple(degraded))


def _with_fallbacks(
    conn: psycopg.Connection, evidence: Evidence, categories: list[int], count: int
) -> Evidence:
    """`evidence` with up to `count` trending products per category and popular products
    (the batch job's, else the live counters')."""
    with conn.pipeline():
        trending = conn.execute(_TRENDING, (categories, count)) if categories else None
        popular_rows = conn.execute(_POPULAR, (count,))
    popular = [_product(row) for row in popular_rows.fetchall()]
    popular_is_live = not popular
    if popular_is_live:
        popular = [_product(row) for row in conn.execute(_LIVE_POPULAR, (count,)).fetchall()]
    return replace(
        evidence,
        trending=[_product(row) for row in trending.fetchall()] if trending else [],
        popular=popular,
        popular_is_live=popular_is_live,
    )


def _product(row: Sequence[Any]) -> Product:
    return Product(product_id=row[0], name=row[1], category_id=row[2], category_name=row[3])


def _batch_recommendation(row: Sequence[Any]) -> BatchRecommendation:
    return BatchRecommendation(
        rank=row[0],
        product=_product(row[6:]),
        reason=row[1],
        reason_product_id=row[2],
        reason_product_name=row[3],
        reason_category_id=row[4],
        reason_category_name=row[5],
    )
