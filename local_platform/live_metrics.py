"""The live metrics as the realtime tables hold them: what the stream processor has counted,
read back in one go for the terminal (the demo) and, later, the dashboards."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

import psycopg

TOP_PRODUCTS = 5
CART_STATUSES = ("open", "checking_out", "abandoned", "converted")


@dataclass(frozen=True)
class Activity:
    """Site activity over a span of minutes; active_sessions are distinct over the span."""

    events: int
    active_sessions: int
    product_views: int
    add_to_carts: int
    checkouts: int
    orders: int
    revenue: Decimal


@dataclass(frozen=True)
class ProductActivity:
    product_id: int
    name: str | None  # None when the OLTP catalog does not know the id (yet)
    views: int
    cart_adds: int
    units_sold: int
    revenue: Decimal


@dataclass(frozen=True)
class LiveMetrics:
    """What the realtime tables show. The last simulated hour is the hour of event time that
    ends with the latest minute on record; minutes without events have no row."""

    last_hour: dict[datetime, Activity]
    last_hour_total: Activity
    stream_total: Activity
    top_products: list[ProductActivity]
    carts_by_status: dict[str, int]
    open_cart_value: Decimal
    abandonment_alerts: int
    abandoned_value: Decimal


def read_live_metrics(conn: psycopg.Connection) -> LiveMetrics:
    """The live metrics as the realtime tables hold them now."""
    (latest,) = conn.execute("SELECT max(minute) FROM realtime.minute_metrics").fetchone()
    hour_end = latest + timedelta(minutes=1) if latest else None
    hour_start = hour_end - timedelta(hours=1) if hour_end else None
    last_hour = {}
    if hour_start is not None:
        for minute, *values in conn.execute(
            """
            SELECT minute, events, active_sessions, product_views, add_to_carts, checkouts,
                   orders, revenue
            FROM realtime.minute_metrics WHERE minute >= %s ORDER BY minute
            """,
            (hour_start,),
        ):
            last_hour[minute] = Activity(*values)
    carts = dict(
        conn.execute("SELECT status, count(*) FROM realtime.carts GROUP BY status").fetchall()
    )
    (open_value,) = conn.execute(
        "SELECT COALESCE(sum(cart_value), 0) FROM realtime.open_carts"
        " WHERE status IN ('open', 'checking_out')"
    ).fetchone()
    alerts, abandoned_value = conn.execute(
        "SELECT count(*), COALESCE(sum(cart_value), 0) FROM realtime.cart_abandonment_alerts"
    ).fetchone()
    return LiveMetrics(
        last_hour=last_hour,
        last_hour_total=_activity(conn, hour_start, hour_end),
        stream_total=_activity(conn, None, None),
        top_products=_top_products(conn),
        carts_by_status={status: carts.get(status, 0) for status in CART_STATUSES},
        open_cart_value=open_value,
        abandonment_alerts=alerts,
        abandoned_value=abandoned_value,
    )


def _activity(conn: psycopg.Connection, start: datetime | None, end: datetime | None) -> Activity:
    """Sums of the minute rows in [start, end) (unbounded when None), with the sessions
    counted once however many of its minutes they were active in."""
    window = {"start": start, "end": end}
    sessions = conn.execute(
        """
        SELECT count(DISTINCT session_id) FROM realtime.minute_sessions
        WHERE (%(start)s::timestamptz IS NULL OR minute >= %(start)s)
          AND (%(end)s::timestamptz IS NULL OR minute < %(end)s)
        """,
        window,
    ).fetchone()[0]
    sums = conn.execute(
        """
        SELECT COALESCE(sum(events), 0), COALESCE(sum(product_views), 0),
               COALESCE(sum(add_to_carts), 0), COALESCE(sum(checkouts), 0),
               COALESCE(sum(orders), 0), COALESCE(sum(revenue), 0)
        FROM realtime.minute_metrics
        WHERE (%(start)s::timestamptz IS NULL OR minute >= %(start)s)
          AND (%(end)s::timestamptz IS NULL OR minute < %(end)s)
        """,
        window,
    ).fetchone()
    events, views, adds, checkouts, orders, revenue = sums
    return Activity(
        int(events), sessions, int(views), int(adds), int(checkouts), int(orders), revenue
    )


def _top_products(conn: psycopg.Connection) -> list[ProductActivity]:
    """Best sellers by live revenue, then units and views; names from the OLTP catalog."""
    rows = conn.execute(
        """
        SELECT c.product_id, p.name, c.views, c.cart_adds, c.units_sold, c.revenue
        FROM realtime.product_counters c
        LEFT JOIN public.products p ON p.id = c.product_id
        ORDER BY c.revenue DESC, c.units_sold DESC, c.views DESC, c.product_id
        LIMIT %s
        """,
        (TOP_PRODUCTS,),
    ).fetchall()
    return [ProductActivity(*row) for row in rows]
