"""Writes to the realtime schema (contracts/oltp/migrations/V003__realtime_tables.sql, and
V007__recommendations.sql for the visitors' recent products).

Each function sends one statement for the whole batch: columns travel as arrays and are
unnested server-side, so a batch of thousands of events costs a handful of round trips.
Rows are sorted by key so that concurrent batches lock rows in the same order and cannot
deadlock. Callers run these inside one transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TypeVar

import psycopg

from lambdas.stream_processor.aggregation import BatchAggregates, Event
from lambdas.stream_processor.dead_letters import DeadLetter
from lambdas.stream_processor.records import SourceRecord

# A partition with no new records for this long no longer holds the stream's event time back.
IDLE_PARTITION_SECONDS = 60
# How often old event ids are forgotten (by whichever batch takes the turn).
FORGET_EVERY = timedelta(minutes=5)
# Rows kept per visitor in realtime.visitor_recent_products (a product viewed and carted is
# two rows); the recommendations API reads fewer than this.
RECENT_PRODUCTS_PER_VISITOR = 20
# Namespace of the per-visitor advisory locks (the first key of pg_advisory_xact_lock(int, int)).
_VISITOR_LOCK_SPACE = 715_031_007

_Key = TypeVar("_Key")
_Row = TypeVar("_Row")
_Result = TypeVar("_Result")


def _execute(conn: psycopg.Connection, query: str, params: Sequence | dict) -> psycopg.Cursor:
    """Run one statement. The statements take their arrays as %b (binary) parameters: psycopg
    packs thousands of values without quoting each one in Python (as %s would), and the server
    reads them without parsing text."""
    return conn.execute(query, params, binary=True)


def _in_lock_order(rows: Mapping[_Key, _Row]) -> tuple[list[_Key], list[_Row]]:
    """The keys sorted, and their rows in that order: every writer locks a table's rows in
    key order, so concurrent batches cannot deadlock."""
    keys = sorted(rows)
    return keys, [rows[key] for key in keys]


def claim_new_events(
    conn: psycopg.Connection,
    events: Sequence[tuple[SourceRecord, Event]],
    meanwhile: Callable[[], _Result],
) -> tuple[set[str], _Result]:
    """Record the events' ids; returns the ids that were not recorded before (to be counted),
    and what `meanwhile` returned.

    `meanwhile` runs while the server inserts (the statement is sent in pipeline mode and its
    answer read after): the insert is the batch's longest statement, and the client would
    otherwise wait through it idle.
    The server answers with the ids it did not claim (usually none), not with the thousands it
    did: reading them back would cost the client more than the insert does.
    A concurrent transaction claiming the same id makes this one wait for it, then skip the id.
    """
    if not events:
        return set(), meanwhile()
    rows = sorted(events, key=lambda pair: pair[1]["event_id"])
    ids = [event["event_id"] for _, event in rows]
    with conn.pipeline():
        answer = _execute(
            conn,
            """
            WITH batch AS (
                SELECT * FROM unnest(%b::uuid[], %b::text[], %b::timestamptz[], %b::text[],
                                     %b::integer[], %b::bigint[])
                    AS u(event_id, event_type, occurred_at, source_topic, source_partition,
                         source_offset)
            ),
            claimed AS (
                INSERT INTO realtime.processed_events
                    (event_id, event_type, occurred_at, source_topic, source_partition,
                     source_offset)
                SELECT * FROM batch
                ON CONFLICT (event_id) DO NOTHING
                RETURNING event_id
            )
            SELECT b.event_id::text FROM batch AS b
            WHERE NOT EXISTS (SELECT 1 FROM claimed AS c WHERE c.event_id = b.event_id)
            """,
            (
                ids,
                [event["event_type"] for _, event in rows],
                [event["occurred_at"] for _, event in rows],
                [record.topic for record, _ in rows],
                [record.partition for record, _ in rows],
                [record.offset for record, _ in rows],
            ),
        )
        result = meanwhile()
        seen_before = answer.fetchall()
    return set(ids).difference(event_id for (event_id,) in seen_before), result


def apply_aggregates(
    conn: psycopg.Connection, batch: BatchAggregates, meanwhile: Callable[[], _Result]
) -> _Result:
    """Add a batch's deltas to the minute, product, cart and cart-line tables; returns what
    `meanwhile` returned.

    In pipeline mode: the statements go out together and are waited for once, one round trip
    instead of seven; the server works on the first while the client packs the next, and on
    the last while `meanwhile` runs. An error in any of them is raised when the pipeline ends."""
    with conn.pipeline():
        _upsert_minutes(conn, batch)
        _upsert_products(conn, batch)
        _upsert_carts(conn, batch)
        _upsert_cart_lines(conn, batch)
        _record_visitor_products(conn, batch)
        return meanwhile()


def _upsert_minutes(conn: psycopg.Connection, batch: BatchAggregates) -> None:
    """Add the minutes' counts; a minute's active_sessions grows by the sessions this batch is
    the first to see in it (recorded in realtime.minute_sessions by the same statement)."""
    if not batch.minutes:
        return
    minutes, counts = _in_lock_order(batch.minutes)
    pairs = sorted(batch.minute_sessions)
    _execute(
        conn,
        """
        WITH added AS (
            INSERT INTO realtime.minute_sessions (minute, session_id)
            SELECT * FROM unnest(%b::timestamptz[], %b::uuid[])
            ON CONFLICT DO NOTHING
            RETURNING minute
        ),
        new_sessions AS (
            SELECT minute, count(*)::integer AS sessions FROM added GROUP BY minute
        )
        INSERT INTO realtime.minute_metrics AS m
            (minute, events, active_sessions, product_views, add_to_carts, checkouts, orders,
             revenue)
        SELECT u.minute, u.events, COALESCE(n.sessions, 0), u.product_views, u.add_to_carts,
               u.checkouts, u.orders, u.revenue_cents / 100.0
        FROM unnest(%b::timestamptz[], %b::bigint[], %b::integer[], %b::integer[],
                    %b::integer[], %b::integer[], %b::bigint[])
             AS u(minute, events, product_views, add_to_carts, checkouts, orders,
                  revenue_cents)
        LEFT JOIN new_sessions AS n ON n.minute = u.minute
        ORDER BY u.minute
        ON CONFLICT (minute) DO UPDATE SET
            events          = m.events + EXCLUDED.events,
            active_sessions = m.active_sessions + EXCLUDED.active_sessions,
            product_views   = m.product_views + EXCLUDED.product_views,
            add_to_carts    = m.add_to_carts + EXCLUDED.add_to_carts,
            checkouts       = m.checkouts + EXCLUDED.checkouts,
            orders          = m.orders + EXCLUDED.orders,
            revenue         = m.revenue + EXCLUDED.revenue,
            updated_at      = now()
        """,
        (
            [minute for minute, _ in pairs],
            [session for _, session in pairs],
            minutes,
            [c.events for c in counts],
            [c.product_views for c in counts],
            [c.add_to_carts for c in counts],
            [c.checkouts for c in counts],
            [c.orders for c in counts],
            [c.revenue_cents for c in counts],
        ),
    )


def _upsert_products(conn: psycopg.Connection, batch: BatchAggregates) -> None:
    if not batch.products:
        return
    ids, counts = _in_lock_order(batch.products)
    _execute(
        conn,
        """
        INSERT INTO realtime.product_counters AS p
            (product_id, views, cart_adds, units_added, units_removed, units_sold, revenue,
             last_event_at)
        SELECT u.product_id, u.views, u.cart_adds, u.units_added, u.units_removed,
               u.units_sold, u.revenue_cents / 100.0, u.last_event_at
        FROM unnest(%b::bigint[], %b::bigint[], %b::bigint[], %b::bigint[], %b::bigint[],
                    %b::bigint[], %b::bigint[], %b::timestamptz[])
             AS u(product_id, views, cart_adds, units_added, units_removed, units_sold,
                  revenue_cents, last_event_at)
        ON CONFLICT (product_id) DO UPDATE SET
            views         = p.views + EXCLUDED.views,
            cart_adds     = p.cart_adds + EXCLUDED.cart_adds,
            units_added   = p.units_added + EXCLUDED.units_added,
            units_removed = p.units_removed + EXCLUDED.units_removed,
            units_sold    = p.units_sold + EXCLUDED.units_sold,
            revenue       = p.revenue + EXCLUDED.revenue,
            last_event_at = GREATEST(p.last_event_at, EXCLUDED.last_event_at),
            updated_at    = now()
        """,
        (
            ids,
            [c.views for c in counts],
            [c.cart_adds for c in counts],
            [c.units_added for c in counts],
            [c.units_removed for c in counts],
            [c.units_sold for c in counts],
            [c.revenue_cents for c in counts],
            [c.last_event_at for c in counts],
        ),
    )


def _upsert_carts(conn: psycopg.Connection, batch: BatchAggregates) -> None:
    if not batch.carts:
        return
    ids, carts = _in_lock_order(batch.carts)
    _execute(
        conn,
        """
        INSERT INTO realtime.carts AS c
            (cart_id, user_id, session_id, opened_at, last_activity_at, checkout_started_at,
             ordered_at, order_id)
        SELECT * FROM unnest(%b::uuid[], %b::bigint[], %b::uuid[], %b::timestamptz[],
                             %b::timestamptz[], %b::timestamptz[], %b::timestamptz[],
                             %b::bigint[])
        ON CONFLICT (cart_id) DO UPDATE SET
            user_id             = COALESCE(EXCLUDED.user_id, c.user_id),
            session_id          = CASE WHEN EXCLUDED.opened_at < c.opened_at
                                       THEN EXCLUDED.session_id ELSE c.session_id END,
            opened_at           = LEAST(c.opened_at, EXCLUDED.opened_at),
            last_activity_at    = GREATEST(c.last_activity_at, EXCLUDED.last_activity_at),
            checkout_started_at = LEAST(c.checkout_started_at, EXCLUDED.checkout_started_at),
            ordered_at          = LEAST(c.ordered_at, EXCLUDED.ordered_at),
            order_id            = COALESCE(c.order_id, EXCLUDED.order_id),
            -- activity after the cart was declared abandoned revives it
            abandoned_at        = CASE WHEN EXCLUDED.last_activity_at >= c.abandoned_at
                                       THEN NULL ELSE c.abandoned_at END,
            updated_at          = now()
        """,
        (
            ids,
            [c.user_id for c in carts],
            [c.session_id for c in carts],
            [c.opened_at for c in carts],
            [c.last_activity_at for c in carts],
            [c.checkout_started_at for c in carts],
            [c.ordered_at for c in carts],
            [c.order_id for c in carts],
        ),
    )


def _upsert_cart_lines(conn: psycopg.Connection, batch: BatchAggregates) -> None:
    if not batch.cart_lines:
        return
    keys, lines = _in_lock_order(batch.cart_lines)
    _execute(
        conn,
        """
        INSERT INTO realtime.cart_lines AS l (cart_id, product_id, quantity, unit_price)
        SELECT u.cart_id, u.product_id, u.quantity, u.unit_price_cents / 100.0
        FROM unnest(%b::uuid[], %b::bigint[], %b::integer[], %b::bigint[])
             AS u(cart_id, product_id, quantity, unit_price_cents)
        ON CONFLICT (cart_id, product_id) DO UPDATE SET
            quantity   = l.quantity + EXCLUDED.quantity,
            unit_price = COALESCE(EXCLUDED.unit_price, l.unit_price),
            updated_at = now()
        """,
        (
            [cart_id for cart_id, _ in keys],
            [product_id for _, product_id in keys],
            [line.quantity for line in lines],
            [line.unit_price_cents for line in lines],
        ),
    )


def _record_visitor_products(conn: psycopg.Connection, batch: BatchAggregates) -> None:
    """Upsert the visitors' viewed and carted products (keeping each one's latest time), then
    keep only each touched visitor's RECENT_PRODUCTS_PER_VISITOR newest rows.

    The result is the newest rows of all events seen, whatever order batches come in. The
    pruning deletes rows another batch may have just written, so writers first take each
    visitor's advisory lock, in one order, and so never wait on each other in a cycle.
    """
    if not batch.visitor_products:
        return
    keys, times = _in_lock_order(batch.visitor_products)
    visitors = sorted({visitor for visitor, _, _ in keys})
    _execute(
        conn,
        """
        SELECT pg_advisory_xact_lock(%s, hashtext(v.visitor_key))
        FROM unnest(%b::text[]) AS v(visitor_key)
        ORDER BY hashtext(v.visitor_key)
        """,
        (_VISITOR_LOCK_SPACE, visitors),
    )
    _execute(
        conn,
        """
        INSERT INTO realtime.visitor_recent_products AS r
            (visitor_key, product_id, action, occurred_at)
        SELECT * FROM unnest(%b::text[], %b::bigint[], %b::text[], %b::timestamptz[])
        ON CONFLICT (visitor_key, product_id, action) DO UPDATE SET
            occurred_at = GREATEST(r.occurred_at, EXCLUDED.occurred_at)
        """,
        (
            [visitor for visitor, _, _ in keys],
            [product_id for _, product_id, _ in keys],
            [action for _, _, action in keys],
            times,
        ),
    )
    _execute(
        conn,
        """
        DELETE FROM realtime.visitor_recent_products AS r
        USING (
            SELECT visitor_key, product_id, action,
                   row_number() OVER (PARTITION BY visitor_key
                                      ORDER BY occurred_at DESC, product_id, action) AS recency
            FROM realtime.visitor_recent_products
            WHERE visitor_key = ANY(%b::text[])
        ) AS ranked
        WHERE ranked.recency > %s
          AND r.visitor_key = ranked.visitor_key
          AND r.product_id = ranked.product_id
          AND r.action = ranked.action
        """,
        (visitors, RECENT_PRODUCTS_PER_VISITOR),
    )


def advance_watermarks(
    conn: psycopg.Connection, latest: Mapping[tuple[str, int], datetime]
) -> datetime | None:
    """Move each partition's watermark forward; returns the stream's event-time now, or None
    when nothing was ever read.

    Now is the low watermark: the minimum over partitions that moved in the last
    IDLE_PARTITION_SECONDS of wall time. The maximum would let a consumer that reads one
    partition ahead of another abandon carts whose next events are still unread (a cart's
    events can span partitions when a visitor signs in mid-session); a partition that has
    gone quiet stops holding the stream back once it has been idle that long.
    """
    keys, latest_times = _in_lock_order(latest)
    row = _execute(
        conn,
        """
        WITH advanced AS (
            INSERT INTO realtime.partition_watermarks AS w
                (source_topic, source_partition, max_occurred_at)
            SELECT * FROM unnest(%b::text[], %b::integer[], %b::timestamptz[])
            ON CONFLICT (source_topic, source_partition) DO UPDATE SET
                max_occurred_at = GREATEST(w.max_occurred_at, EXCLUDED.max_occurred_at),
                updated_at = now()
            RETURNING source_topic, source_partition, max_occurred_at
        )
        SELECT min(max_occurred_at) FROM (
            SELECT max_occurred_at FROM advanced
            UNION ALL
            SELECT w.max_occurred_at
            FROM realtime.partition_watermarks AS w
            WHERE w.updated_at > now() - make_interval(secs => %s)
              AND NOT EXISTS (
                  SELECT 1 FROM advanced AS a
                  WHERE a.source_topic = w.source_topic
                    AND a.source_partition = w.source_partition)
        ) AS live_partitions
        """,
        (
            [topic for topic, _ in keys],
            [partition for _, partition in keys],
            latest_times,
            IDLE_PARTITION_SECONDS,
        ),
    ).fetchone()
    return row[0] if row else None


def flag_abandoned_carts(conn: psycopg.Connection, now: datetime, idle_minutes: int) -> int:
    """Mark carts idle for idle_minutes (event time `now`) without a checkout; alert on each.

    abandoned_at is last activity + idle_minutes, so it does not depend on batch boundaries.
    Returns the number of new alerts.
    """
    alerts = _execute(
        conn,
        """
        WITH abandoned AS (
            UPDATE realtime.carts
            SET abandoned_at = last_activity_at + make_interval(mins => %(idle)s),
                updated_at = now()
            WHERE checkout_started_at IS NULL AND ordered_at IS NULL AND abandoned_at IS NULL
              AND last_activity_at <= %(now)s - make_interval(mins => %(idle)s)
            RETURNING cart_id, user_id, session_id, last_activity_at, abandoned_at
        ),
        alerted AS (
            INSERT INTO realtime.cart_abandonment_alerts
                (cart_id, last_activity_at, abandoned_at, detected_at, user_id, session_id,
                 units, cart_value)
            SELECT a.cart_id, a.last_activity_at, a.abandoned_at, %(now)s, a.user_id,
                   a.session_id,
                   COALESCE(sum(GREATEST(l.quantity, 0)), 0),
                   COALESCE(sum(GREATEST(l.quantity, 0) * l.unit_price), 0)
            FROM abandoned a
            LEFT JOIN realtime.cart_lines l ON l.cart_id = a.cart_id
            GROUP BY a.cart_id, a.last_activity_at, a.abandoned_at, a.user_id, a.session_id
            ON CONFLICT (cart_id, last_activity_at) DO NOTHING
            RETURNING 1
        )
        SELECT count(*) FROM alerted
        """,
        {"now": now, "idle": idle_minutes},
    ).fetchone()
    return alerts[0] if alerts else 0


def insert_dead_letters(conn: psycopg.Connection, letters: Sequence[DeadLetter]) -> None:
    """Store poison records; one row per source record, so a redelivery adds nothing."""
    if not letters:
        return
    with conn.cursor() as cursor:
        cursor.executemany(
            """
            INSERT INTO realtime.dead_letters
                (source_topic, source_partition, source_offset, event_id, event_type, reasons,
                 payload)
            VALUES (%s, %s, %s, %s, %s, %s, %s)
            ON CONFLICT DO NOTHING
            """,
            [
                (
                    letter.record.topic,
                    letter.record.partition,
                    letter.record.offset,
                    letter.event_id,
                    letter.event_type,
                    list(letter.reasons),
                    letter.record.value,
                )
                for letter in letters
            ],
        )


def forget_processed_events(conn: psycopg.Connection, window_hours: int) -> int | None:
    """Delete the ids of events processed more than window_hours ago, at most once per
    FORGET_EVERY over all processors; returns how many were deleted, or None when it was not
    this batch's turn (done recently, or another batch is doing it now)."""
    turn = conn.execute(
        """
        UPDATE realtime.housekeeping SET last_run_at = now()
        WHERE task = (
            SELECT task FROM realtime.housekeeping
            WHERE task = 'forget_processed_events' AND last_run_at < now() - %s
            FOR UPDATE SKIP LOCKED
        )
        RETURNING task
        """,
        (FORGET_EVERY,),
    ).fetchone()
    if turn is None:
        return None
    return conn.execute(
        "DELETE FROM realtime.processed_events"
        " WHERE processed_at < now() - make_interval(hours => %s)",
        (window_hours,),
    ).rowcount
