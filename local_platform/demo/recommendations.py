"""Stage 5 of the demo, recommendations: three sample customers, what they bought lately and
what the platform recommends them with the reason for each (read from PostgreSQL's reco
tables, as the API reads them), then the holdout metrics of the batch stage's run beside
the popularity and random baselines (docs/personalization.md).

The batch stage built and loaded the recommendations; this stage only reads.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import psycopg
from rich.table import Table

from contracts.lake import RECO_HOLDOUT_METRICS, Lake
from lambdas.recommendations.blend import BatchRecommendation, Product, ReasonKind, batch_reason
from local_platform.console import stderr
from local_platform.demo.settings import DemoSettings

SAMPLE_CUSTOMERS = 3
SHOWN_PURCHASES = 4
SHOWN_RECOMMENDATIONS = 6

# The sample: customers with recommendations, the most recent buyers first.
SAMPLE_QUERY = """
SELECT o.user_id, max(o.placed_at) AS last_order
FROM orders o
WHERE EXISTS (SELECT 1 FROM reco.customer_recommendations r WHERE r.user_id = o.user_id)
  AND o.status <> 'cancelled'
GROUP BY o.user_id
ORDER BY last_order DESC, o.user_id
LIMIT %s
"""
PURCHASES_QUERY = """
SELECT o.placed_at::date, p.name, c.name
FROM orders o
JOIN order_items i ON i.order_id = o.id
JOIN products p ON p.id = i.product_id
JOIN categories c ON c.id = p.category_id
WHERE o.user_id = %s AND o.status <> 'cancelled'
ORDER BY o.placed_at DESC, i.id
LIMIT %s
"""
RECOMMENDATIONS_QUERY = """
SELECT r.rank, p.name, c.name, r.reason, because.name, reason_category.name, r.score
FROM reco.customer_recommendations r
JOIN products p ON p.id = r.product_id
JOIN categories c ON c.id = p.category_id
LEFT JOIN products because ON because.id = r.reason_product_id
LEFT JOIN categories reason_category ON reason_category.id = r.reason_category_id
WHERE r.user_id = %s
ORDER BY r.rank
LIMIT %s
"""
LATEST_RUN_QUERY = """
SELECT run_id, as_of, similar_products, customer_recommendations, popular_products
FROM reco.batch_runs ORDER BY loaded_at DESC, run_id DESC LIMIT 1
"""


def reason_text(reason: ReasonKind, product: str | None, category: str | None) -> str:
    """The reason as the API words it for a shopper (blend.batch_reason), from one batch row."""
    item = BatchRecommendation(
        rank=0,
        product=Product(0, "", 0, category or ""),
        reason=reason,
        reason_product_name=product,
        reason_category_name=category,
    )
    return batch_reason(item).text


def run(settings: DemoSettings) -> None:
    stderr.rule("[bold]Stage 5: recommendations[/bold] (what the API serves, and how good)")
    with psycopg.connect(settings.database_url) as conn:
        latest = conn.execute(LATEST_RUN_QUERY).fetchone()
        if latest is None:
            stderr.print("[yellow]No recommendations loaded:[/yellow] the batch stage did not run.")
            return
        run_id, as_of, similar, customers, popular = latest
        stderr.print(
            f"Run {run_id} (as of {as_of}): {similar:,} similar-product rows, {customers:,}"
            f" customer rows, {popular:,} popular products.",
            highlight=False,
        )
        sample = conn.execute(SAMPLE_QUERY, (SAMPLE_CUSTOMERS,)).fetchall()
        for user_id, _ in sample:
            stderr.print(customer_table(conn, user_id))
    metrics = holdout_table(Lake.in_folder(str(settings.workdir / "lake")))
    if metrics is not None:
        stderr.print(metrics)


def customer_table(conn: psycopg.Connection, user_id: int) -> Table:
    """What one customer bought lately, and what is recommended to them and why."""
    table = Table(title=f"Customer {user_id}", title_justify="left")
    table.add_column("bought lately")
    table.add_column("#", justify="right")
    table.add_column("recommended")
    table.add_column("because")
    bought = [
        f"{day} {name} [dim]({category})[/dim]"
        for day, name, category in conn.execute(PURCHASES_QUERY, (user_id, SHOWN_PURCHASES))
    ]
    recommended = conn.execute(RECOMMENDATIONS_QUERY, (user_id, SHOWN_RECOMMENDATIONS)).fetchall()
    for position in range(max(len(bought), len(recommended))):
        left = bought[position] if position < len(bought) else ""
        if position < len(recommended):
            rank, name, category, reason, product, reason_category, _ = recommended[position]
            table.add_row(
                left,
                str(rank),
                f"{name} [dim]({category})[/dim]",
                reason_text(reason, product, reason_category),
            )
        else:
            table.add_row(left, "", "", "")
    return table


def holdout_table(lake: Lake) -> Table | None:
    """The last run's holdout metrics (reco_holdout_metrics), models side by side."""
    folder = Path(lake.mart(RECO_HOLDOUT_METRICS))
    if not any(folder.glob("*.parquet")):
        return None
    with duckdb.connect() as connection:
        rows = connection.execute(
            "SELECT target, model, users, hit_rate, recall, ndcg, horizon_days, cutoff"
            " FROM read_parquet(?) ORDER BY target, ndcg DESC",
            [f"{folder}/*.parquet"],
        ).fetchall()
    horizon, cutoff = rows[0][6], rows[0][7]
    table = Table(
        title=f"Holdout: the {horizon} days from {cutoff:%Y-%m-%d}, top 10", title_justify="left"
    )
    for column in ("next", "model", "customers", "hit rate", "recall", "NDCG"):
        table.add_column(column, justify="left" if column in ("next", "model") else "right")
    for target, model, users, hit_rate, recall, ndcg, _, _ in rows:
        table.add_row(
            target.removeprefix("next_"),
            model,
            f"{users:,}",
            f"{hit_rate:.3f}",
            f"{recall:.3f}",
            f"{ndcg:.3f}",
        )
    return table
