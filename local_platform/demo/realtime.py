"""Stage 2 of the demo, real time: the generated clickstream through the stream processor
(stream_replay.py), in process or through a broker, then what it counted and the live metrics
of the last simulated hour."""

from __future__ import annotations

import os
from datetime import timedelta

from rich.console import RenderableType
from rich.table import Table

from local_platform.console import fail, stderr
from local_platform.demo.settings import DemoSettings
from local_platform.kafka_publishing import KafkaUnavailableError
from local_platform.live_metrics import CART_STATUSES, Activity, LiveMetrics, ProductActivity
from local_platform.stream_replay import RealtimeReport, StageCounts, run_realtime_stage


def run(settings: DemoSettings) -> None:
    """The stage: in process, or through the broker in $KAFKA_BOOTSTRAP_SERVERS."""
    bootstrap_servers = os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or None
    route = f"through Kafka at {bootstrap_servers}" if bootstrap_servers else "in process"
    stderr.rule(f"[bold]Stage 2: real time[/bold] (stream processor, {route})")
    try:
        report = run_realtime_stage(
            settings.database_url,
            settings.events_path,
            bootstrap_servers=bootstrap_servers,
            reset=settings.replace,
        )
    except KafkaUnavailableError as error:
        fail(f"{error}. Unset KAFKA_BOOTSTRAP_SERVERS to run this stage in process.")
    for renderable in render(report):
        stderr.print(renderable)


def render(report: RealtimeReport) -> list[RenderableType]:
    """Tables for the terminal: counts in and out, the last hour by minute, products, carts."""
    return [
        _counts_table(report.counts),
        _last_hour_table(report.metrics),
        _products_table(report.metrics.top_products),
        _carts_table(report.metrics),
    ]


def _counts_table(counts: StageCounts) -> Table:
    table = Table("count", "value", title=f"Real-time stage ({counts.source})")
    table.add_row("events read from the file", f"{counts.events_read:,}")
    if counts.produced is not None:
        table.add_row("produced to Kafka", f"{counts.produced:,}")
    table.add_row("records received by the processor", f"{counts.received:,}")
    table.add_row("processed (counted once)", f"{counts.processed:,}")
    table.add_row("duplicates skipped", f"{counts.duplicates:,}")
    table.add_row("dead-lettered", f"{counts.dead_lettered:,}")
    table.add_row("abandonment alerts raised", f"{counts.alerts_raised:,}")
    rate = counts.received / counts.elapsed_s if counts.elapsed_s > 0 else 0.0
    table.add_row(
        "batches, time", f"{counts.batches:,} in {counts.elapsed_s:.1f} s ({rate:,.0f} events/s)"
    )
    return table


def _last_hour_table(metrics: LiveMetrics) -> Table:
    minutes = sorted(metrics.last_hour)
    title = "Live metrics, last simulated hour"
    if minutes:
        end = minutes[-1] + timedelta(minutes=1)
        title += f" ({end - timedelta(hours=1):%Y-%m-%d %H:%M}-{end:%H:%M} UTC, active minutes)"
    table = Table(
        "minute", "events", "active sessions", "product views", "add-to-carts", "checkouts",
        "orders", "revenue", title=title, show_footer=True,
    )  # fmt: skip
    for minute in minutes:
        table.add_row(f"{minute:%H:%M}", *_activity_cells(metrics.last_hour[minute]))
    for column, cell in zip(
        table.columns, ["hour", *_activity_cells(metrics.last_hour_total)], strict=True
    ):
        column.footer = cell
    return table


def _activity_cells(activity: Activity) -> list[str]:
    return [
        f"{activity.events:,}",
        f"{activity.active_sessions:,}",
        f"{activity.product_views:,}",
        f"{activity.add_to_carts:,}",
        f"{activity.checkouts:,}",
        f"{activity.orders:,}",
        f"${activity.revenue:,.2f}",
    ]


def _products_table(products: list[ProductActivity]) -> Table:
    table = Table(
        "product", "views", "cart adds", "units sold", "revenue", title="Top products (live)"
    )
    for product in products:
        table.add_row(
            product.name or f"#{product.product_id}",
            f"{product.views:,}",
            f"{product.cart_adds:,}",
            f"{product.units_sold:,}",
            f"${product.revenue:,.2f}",
        )
    return table


def _carts_table(metrics: LiveMetrics) -> Table:
    total = metrics.stream_total
    table = Table("figure", "value", title="Carts and the whole stream")
    for status in CART_STATUSES:
        table.add_row(f"carts {status.replace('_', ' ')}", f"{metrics.carts_by_status[status]:,}")
    table.add_row("value in open carts", f"${metrics.open_cart_value:,.2f}")
    table.add_row(
        "abandonment alerts",
        f"{metrics.abandonment_alerts:,} (${metrics.abandoned_value:,.2f} left in carts)",
    )
    table.add_row("events, all minutes", f"{total.events:,}")
    table.add_row("orders, revenue", f"{total.orders:,}, ${total.revenue:,.2f}")
    return table
