"""Product recommendations as pure DataFrame functions (docs/personalization.md).

Three outputs, each the shape of its table in the `reco` schema the API reads:

- similar products: item-to-item co-occurrence, within sessions ("viewed together") and
  within customers' purchase histories ("bought together"), scored by cosine similarity
  (co-occurrences / sqrt(product of the two products' basket counts)) above a minimum
  support, top K per product and relation;
- popular products: recent activity weighted by kind (view 1, cart add 3, purchase 10) and
  decayed by age, or the real-time counters when the stream processor has kept any; ranked
  overall and within each category (the fallbacks for new and anonymous visitors);
- customer recommendations: each known customer's recent views, cart adds and purchases
  (weighted and decayed the same way) spread through the similar-products table, plus
  consumables they may be due to buy again, without what they bought recently (unless it is
  a consumable) or discontinued products, blended with what is popular in their favourite
  categories and overall (each source scaled to [0, 1] per customer, weighted, summed; the
  reason is the largest contribution), at most a few per category.

Every function takes the events, order lines and products already cut at the moment the
model is built for, so a temporal split evaluates exactly what the job computes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as sf

from contracts.shopper_signals import (
    CART_ADD_WEIGHT,
    PURCHASE_WEIGHT,
    VIEW_WEIGHT,
    counters_trend_sql,
)
from glue_jobs.transforms.frames import materialized

VIEWED_TOGETHER = "viewed_together"
BOUGHT_TOGETHER = "bought_together"
BOUGHT_AGAIN = "bought_again"
POPULAR_IN_CATEGORY = "popular_in_category"
POPULAR = "popular"

SECONDS_PER_DAY = 86_400.0
# Scores are summed as decimals of this type (see exact_sum): 24 decimals, values below 1e14
# (a score is at most the purchase weight times the interactions it sums, far below that).
_EXACT_SUM_TYPE = "decimal(38,24)"
VIEW_EVENT = "product_viewed"
CART_ADD_EVENT = "product_added_to_cart"


@dataclass(frozen=True)
class RecommendationSettings:
    """The knobs of the models (docs/personalization.md, "How to tune")."""

    similar_per_product: int = 20
    min_support: int = 2
    # Baskets with more products than this (a crawler, a marathon session) are left out:
    # their pairs grow with the square of their size and say little.
    max_basket_products: int = 50
    recommendations_per_customer: int = 20
    max_per_category: int = 4
    # How far back a customer's views and cart adds, and their purchases, count as signals.
    view_days: int = 30
    purchase_days: int = 365
    # Bought this recently: not recommended again unless its category is a consumable.
    recently_bought_days: int = 90
    half_life_days: float = 14.0
    trending_days: int = 14
    # A category is a consumable when this share of its (customer, product) purchases were
    # bought in two or more orders.
    consumable_repeat_share: float = 0.1
    # Categories of a customer's signals that "popular in category" draws from.
    fill_categories: int = 3
    # The blend: each source scaled to [0, 1] per customer, then weighted and summed.
    learned_weight: float = 1.0
    category_weight: float = 1.0
    popular_weight: float = 0.3


@dataclass(frozen=True)
class Interactions:
    """What shoppers did before the cut-off: views and cart adds (session_id, user_id,
    product_id, occurred_at; user_id null for visitors not signed in) and purchases
    (user_id, order_id, product_id, occurred_at)."""

    views: DataFrame
    cart_adds: DataFrame
    purchases: DataFrame


def model_events(events: DataFrame) -> DataFrame:
    """The part of the curated events the models read: views and cart adds, with only the
    columns `interactions` uses. The job caches this, a fraction of the whole table."""
    return events.filter(sf.col("event_type").isin(VIEW_EVENT, CART_ADD_EVENT)).select(
        "event_type",
        "session_id",
        "user_id",
        sf.struct(sf.col("properties.product_id").alias("product_id")).alias("properties"),
        "occurred_at",
    )


def interactions(
    events: DataFrame, orders: DataFrame, order_items: DataFrame, cutoff: datetime
) -> Interactions:
    """Views and cart adds from the curated events, purchases from the OLTP orders that were
    not cancelled (the history before the clickstream included), all strictly before
    `cutoff`."""
    before = sf.col("occurred_at") < sf.lit(cutoff)

    def product_events(event_type: str) -> DataFrame:
        return events.filter((sf.col("event_type") == event_type) & before).select(
            "session_id",
            "user_id",
            sf.col("properties.product_id").alias("product_id"),
            "occurred_at",
        )

    purchases = (
        orders.filter(sf.col("status") != "cancelled")
        .select(sf.col("id").alias("order_id"), "user_id", "placed_at")
        .join(order_items.select("order_id", "product_id"), "order_id")
        .select("user_id", "order_id", "product_id", sf.col("placed_at").alias("occurred_at"))
        .filter(before)
    )
    return Interactions(
        views=product_events(VIEW_EVENT),
        cart_adds=product_events(CART_ADD_EVENT),
        purchases=purchases,
    )


def materialized_interactions(seen: Interactions) -> Interactions:
    """`seen` with each frame materialized: a model reads them in every branch of its blend,
    and the caller counts or evaluates them again."""
    return Interactions(
        views=materialized(seen.views),
        cart_adds=materialized(seen.cart_adds),
        purchases=materialized(seen.purchases),
    )


def catalog_products(products: DataFrame) -> DataFrame:
    """(product_id, category_id, active) from the OLTP products table."""
    return products.select(
        sf.col("id").alias("product_id"),
        "category_id",
        (sf.col("status") == "active").alias("active"),
    )


# -- item to item ---------------------------------------------------------------------------


def co_occurrence(baskets: DataFrame, min_support: int, max_basket_products: int) -> DataFrame:
    """(product_id, similar_product_id, support, score) for every ordered pair of distinct
    products found together in at least `min_support` baskets (basket_id, product_id);
    score = support / sqrt(baskets with one x baskets with the other)."""
    items = baskets.select("basket_id", "product_id").distinct()
    sizes = items.groupBy("basket_id").agg(sf.count(sf.lit(1)).alias("size"))
    items = items.join(sizes.filter(sf.col("size") <= max_basket_products), "basket_id").drop(
        "size"
    )
    counts = items.groupBy("product_id").agg(sf.count(sf.lit(1)).alias("baskets"))
    left = items.alias("left")
    right = items.withColumnRenamed("product_id", "similar_product_id").alias("right")
    pairs = (
        left.join(right, "basket_id")
        .filter(sf.col("product_id") != sf.col("similar_product_id"))
        .groupBy("product_id", "similar_product_id")
        .agg(sf.count(sf.lit(1)).cast("int").alias("support"))
        .filter(sf.col("support") >= min_support)
    )
    return (
        pairs.join(counts, "product_id")
        .join(
            counts.withColumnRenamed("product_id", "similar_product_id").withColumnRenamed(
                "baskets", "similar_baskets"
            ),
            "similar_product_id",
        )
        .select(
            "product_id",
            "similar_product_id",
            "support",
            (sf.col("support") / sf.sqrt(sf.col("baskets") * sf.col("similar_baskets"))).alias(
                "score"
            ),
        )
    )


def top_similar(pairs: DataFrame, relation: str, k: int) -> DataFrame:
    """The `k` best-scored pairs per product as reco.similar_products rows; ties go to the
    higher support, then the lower product id, so reruns rank alike."""
    order = Window.partitionBy("product_id").orderBy(
        sf.desc("score"), sf.desc("support"), sf.asc("similar_product_id")
    )
    return (
        pairs.withColumn("rank", sf.row_number().over(order))
        .filter(sf.col("rank") <= k)
        .select(
            "product_id",
            sf.lit(relation).alias("relation"),
            sf.col("rank").cast("smallint").alias("rank"),
            "similar_product_id",
            "score",
            "support",
        )
    )


def similar_products(seen: Interactions, settings: RecommendationSettings) -> DataFrame:
    """Viewed together (baskets = sessions) and bought together (baskets = customers'
    purchase histories), top K each."""
    session_baskets = seen.views.select(sf.col("session_id").alias("basket_id"), "product_id")
    customer_baskets = seen.purchases.select(
        sf.col("user_id").cast("string").alias("basket_id"), "product_id"
    )
    k, support, cap = (
        settings.similar_per_product,
        settings.min_support,
        settings.max_basket_products,
    )
    return top_similar(
        co_occurrence(session_baskets, support, cap), VIEWED_TOGETHER, k
    ).unionByName(top_similar(co_occurrence(customer_baskets, support, cap), BOUGHT_TOGETHER, k))


# -- popularity -----------------------------------------------------------------------------


def _age_days(cutoff: datetime, column: str = "occurred_at") -> Column:
    """Days from `column` to `cutoff`."""
    return (sf.unix_timestamp(sf.lit(cutoff)) - sf.unix_timestamp(column)) / SECONDS_PER_DAY


def exact_sum(values: Column) -> Column:
    """The sum of doubles, the same whatever order the rows arrive in: each value is rounded
    to 24 decimals and added exactly as a decimal. A plain sum of doubles depends on how the
    rows are partitioned, which the cluster's size and the plan decide, so its last bits (and
    the rank of two near-equal scores) could change from run to run."""
    return sf.sum(values.cast(_EXACT_SUM_TYPE)).cast("double")


def _decay(cutoff: datetime, half_life_days: float) -> Column:
    """2 ** -(age in days / half-life) of an `occurred_at` before `cutoff`."""
    return sf.pow(sf.lit(2.0), -_age_days(cutoff) / half_life_days)


def _weighted(seen: Interactions) -> DataFrame:
    """(user_id, product_id, occurred_at, kind_weight, purchase) of every interaction."""
    columns = ("user_id", "product_id", "occurred_at")

    def kind(frame: DataFrame, weight: float, purchase: bool) -> DataFrame:
        return frame.select(
            *columns, sf.lit(weight).alias("kind_weight"), sf.lit(purchase).alias("purchase")
        )

    return (
        kind(seen.views, VIEW_WEIGHT, False)
        .unionByName(kind(seen.cart_adds, CART_ADD_WEIGHT, False))
        .unionByName(kind(seen.purchases, PURCHASE_WEIGHT, True))
    )


def _ranked_popularity(scores: DataFrame, catalog: DataFrame) -> DataFrame:
    active = catalog.filter("active").select("product_id", "category_id")
    scored = scores.join(active, "product_id").filter(sf.col("score") > 0)
    tie_break = (sf.desc("score"), sf.asc("product_id"))
    return scored.select(
        "product_id",
        "category_id",
        "score",
        sf.row_number().over(Window.orderBy(*tie_break)).alias("rank_overall"),
        sf.row_number()
        .over(Window.partitionBy("category_id").orderBy(*tie_break))
        .alias("rank_in_category"),
    )


def popular_products(
    seen: Interactions,
    catalog: DataFrame,
    cutoff: datetime,
    settings: RecommendationSettings,
) -> DataFrame:
    """reco.popular_products from the last `trending_days` of interactions, each weighted by
    kind and decayed by age (active products only)."""
    since = sf.col("occurred_at") >= sf.lit(cutoff) - sf.expr(
        f"INTERVAL {settings.trending_days} DAYS"
    )
    scores = (
        _weighted(seen)
        .filter(since)
        .groupBy("product_id")
        .agg(
            exact_sum(sf.col("kind_weight") * _decay(cutoff, settings.half_life_days)).alias(
                "score"
            )
        )
    )
    return _ranked_popularity(scores, catalog)


def trending_from_counters(counters: DataFrame, catalog: DataFrame) -> DataFrame:
    """reco.popular_products from realtime.product_counters (views, cart adds and units sold
    since the stream started, weighted like the batch signals)."""
    scores = counters.alias("counters").select(
        "product_id", sf.expr(counters_trend_sql("counters")).cast("double").alias("score")
    )
    return _ranked_popularity(scores, catalog)


# -- per customer ---------------------------------------------------------------------------


def consumable_categories(
    purchases: DataFrame, catalog: DataFrame, min_repeat_share: float
) -> DataFrame:
    """(category_id, repeat_share, repurchase_days) of the categories whose products are
    re-bought: the share of (customer, product) pairs bought in two or more orders is at
    least `min_repeat_share`; repurchase_days is the median gap between such orders (the
    lower middle value when their number is even)."""
    bought = purchases.join(catalog.select("product_id", "category_id"), "product_id")
    per_order = bought.groupBy("user_id", "product_id", "category_id", "order_id").agg(
        sf.min("occurred_at").alias("occurred_at")
    )
    previous = Window.partitionBy("user_id", "product_id").orderBy("occurred_at", "order_id")
    since_last = sf.unix_timestamp("occurred_at") - sf.unix_timestamp(
        sf.lag("occurred_at").over(previous)
    )
    gaps = per_order.withColumn("gap_days", since_last / SECONDS_PER_DAY)
    repeat = (
        per_order.groupBy("user_id", "product_id", "category_id")
        .agg(sf.count(sf.lit(1)).alias("orders"))
        .groupBy("category_id")
        .agg(sf.avg((sf.col("orders") >= 2).cast("double")).alias("repeat_share"))
    )
    median_gap = (
        gaps.filter(sf.col("gap_days").isNotNull())
        .groupBy("category_id")
        .agg(sf.percentile_approx("gap_days", 0.5, 100_000).alias("repurchase_days"))
    )
    return repeat.filter(sf.col("repeat_share") >= min_repeat_share).join(
        median_gap, "category_id", "left"
    )


def customer_signals(
    seen: Interactions, cutoff: datetime, settings: RecommendationSettings
) -> DataFrame:
    """(user_id, product_id, weight): a known customer's interest in a product, summed over
    their views and cart adds of the last `view_days` and purchases of the last
    `purchase_days`, each weighted by kind and decayed by age."""
    horizon = sf.when(sf.col("purchase"), settings.purchase_days).otherwise(settings.view_days)
    return (
        _weighted(seen)
        .filter(sf.col("user_id").isNotNull() & (_age_days(cutoff) < horizon))
        .groupBy("user_id", "product_id")
        .agg(
            exact_sum(sf.col("kind_weight") * _decay(cutoff, settings.half_life_days)).alias(
                "weight"
            )
        )
    )


REASON_COLUMNS = ("reason", "reason_product_id", "reason_category_id")


def _strongest_reason(candidates: DataFrame) -> DataFrame:
    """One row per (user_id, product_id): the summed score, and the reason (with its product
    or category) of the largest single contribution."""
    strongest = sf.max_by(
        sf.struct(*REASON_COLUMNS), sf.struct("score", "reason_product_id", "reason_category_id")
    )
    return (
        candidates.groupBy("user_id", "product_id")
        .agg(exact_sum(sf.col("score")).alias("score"), strongest.alias("why"))
        .select("user_id", "product_id", "score", *(f"why.{name}" for name in REASON_COLUMNS))
    )


def learned_candidates(
    signals: DataFrame,
    similar: DataFrame,
    purchases: DataFrame,
    consumables: DataFrame,
    catalog: DataFrame,
    cutoff: datetime,
) -> DataFrame:
    """(user_id, product_id, score, reason, reason_product_id) from the customer's own
    history: each signal's weight times the similarity of its neighbours, and consumables
    the customer bought (in `purchases`), scored by purchase weight x orders x how far the
    category's usual gap has run since the last one (up to 1)."""
    through_similar = signals.join(similar, "product_id").select(
        "user_id",
        sf.col("similar_product_id").alias("product_id"),
        (sf.col("weight") * sf.col("score")).alias("score"),
        sf.col("relation").alias("reason"),
        sf.col("product_id").alias("reason_product_id"),
        sf.lit(None).cast("bigint").alias("reason_category_id"),
    )
    due = sf.least(
        sf.lit(1.0), _age_days(cutoff, "last_bought") / sf.coalesce("repurchase_days", sf.lit(30.0))
    )
    again = (
        purchases.join(catalog.select("product_id", "category_id"), "product_id")
        .join(consumables.select("category_id", "repurchase_days"), "category_id")
        .groupBy("user_id", "product_id", "repurchase_days")
        .agg(
            sf.countDistinct("order_id").alias("orders"),
            sf.max("occurred_at").alias("last_bought"),
        )
        .select(
            "user_id",
            "product_id",
            (sf.col("orders") * PURCHASE_WEIGHT * due).alias("score"),
            sf.lit(BOUGHT_AGAIN).alias("reason"),
            sf.col("product_id").alias("reason_product_id"),
            sf.lit(None).cast("bigint").alias("reason_category_id"),
        )
    )
    return _strongest_reason(through_similar.unionByName(again))


def _scaled(frame: DataFrame, weight: float) -> DataFrame:
    """Scores divided by the customer's largest, times `weight`: each source in [0, weight]."""
    largest = sf.max("score").over(Window.partitionBy("user_id"))
    return frame.withColumn("score", sf.lit(weight) * sf.col("score") / largest)


def customer_recommendations(
    seen: Interactions,
    similar: DataFrame,
    popular: DataFrame,
    catalog: DataFrame,
    cutoff: datetime,
    settings: RecommendationSettings,
) -> DataFrame:
    """reco.customer_recommendations: top N per customer with at least one signal (see the
    module's docstring for the blend, exclusions and diversity)."""
    # Materialized: each feeds several branches of the plan below.
    signals = materialized(customer_signals(seen, cutoff, settings))
    consumables = materialized(
        consumable_categories(seen.purchases, catalog, settings.consumable_repeat_share)
    )
    kept = sf.lit(cutoff) - sf.expr(f"INTERVAL {settings.purchase_days} DAYS")
    recent_purchases = seen.purchases.filter(sf.col("occurred_at") >= kept)
    learned = learned_candidates(signals, similar, recent_purchases, consumables, catalog, cutoff)

    favourite = Window.partitionBy("user_id").orderBy(sf.desc("weight"), sf.asc("category_id"))
    top_categories = (
        signals.join(catalog.select("product_id", "category_id"), "product_id")
        .groupBy("user_id", "category_id")
        .agg(exact_sum(sf.col("weight")).alias("weight"))
        .withColumn("place", sf.row_number().over(favourite))
        .filter(sf.col("place") <= settings.fill_categories)
    )
    n = settings.recommendations_per_customer
    category_best = sf.max("score").over(Window.partitionBy("category_id"))
    in_category = (
        popular.filter(sf.col("rank_in_category") <= n)
        .withColumn("share", sf.col("score") / category_best)
        .join(top_categories, "category_id")
        .select(
            "user_id",
            "product_id",
            (sf.col("share") * sf.col("weight")).alias("score"),
            sf.lit(POPULAR_IN_CATEGORY).alias("reason"),
            sf.lit(None).cast("bigint").alias("reason_product_id"),
            sf.col("category_id").alias("reason_category_id"),
        )
    )
    overall = (
        signals.select("user_id")
        .distinct()
        .crossJoin(popular.filter(sf.col("rank_overall") <= n).select("product_id", "score"))
        .select(
            "user_id",
            "product_id",
            "score",
            sf.lit(POPULAR).alias("reason"),
            sf.lit(None).cast("bigint").alias("reason_product_id"),
            sf.lit(None).cast("bigint").alias("reason_category_id"),
        )
    )
    candidates = (
        _scaled(learned, settings.learned_weight)
        .unionByName(_scaled(in_category, settings.category_weight))
        .unionByName(_scaled(overall, settings.popular_weight))
    )

    recent = sf.lit(cutoff) - sf.expr(f"INTERVAL {settings.recently_bought_days} DAYS")
    just_bought = (
        seen.purchases.filter(sf.col("occurred_at") >= recent)
        .join(catalog.select("product_id", "category_id"), "product_id")
        .join(consumables.select("category_id"), "category_id", "left_anti")
        .select("user_id", "product_id")
        .distinct()
    )
    per_category = Window.partitionBy("user_id", "category_id").orderBy(
        sf.desc("score"), sf.asc("product_id")
    )
    per_customer = Window.partitionBy("user_id").orderBy(sf.desc("score"), sf.asc("product_id"))
    return (
        _strongest_reason(candidates.join(just_bought, ["user_id", "product_id"], "left_anti"))
        .join(catalog.filter("active").select("product_id", "category_id"), "product_id")
        .withColumn("in_category", sf.row_number().over(per_category))
        .filter(sf.col("in_category") <= settings.max_per_category)
        .withColumn("rank", sf.row_number().over(per_customer))
        .filter(sf.col("rank") <= n)
        .select(
            "user_id",
            sf.col("rank").cast("smallint").alias("rank"),
            "product_id",
            "score",
            *REASON_COLUMNS,
        )
    )


@dataclass(frozen=True)
class Recommendations:
    """The three tables the batch loads into the reco schema."""

    similar_products: DataFrame
    customer_recommendations: DataFrame
    popular_products: DataFrame


def build_recommendations(
    seen: Interactions,
    catalog: DataFrame,
    cutoff: datetime,
    settings: RecommendationSettings,
    counters: DataFrame | None = None,
) -> Recommendations:
    """Every table from interactions cut at `cutoff`. The popularity fallback comes from the
    real-time counters when `counters` holds any row, else from the recent interactions;
    customers' popularity top-ups always use the latter, which is cut at the same moment."""
    similar = materialized(similar_products(seen, settings))
    batch_popular = materialized(popular_products(seen, catalog, cutoff, settings))
    live = counters is not None and not counters.isEmpty()
    return Recommendations(
        similar_products=similar,
        customer_recommendations=customer_recommendations(
            seen, similar, batch_popular, catalog, cutoff, settings
        ),
        popular_products=trending_from_counters(counters, catalog) if live else batch_popular,
    )
