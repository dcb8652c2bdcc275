"""Customer marts on hand-made histories: cohorts, RFM for five customers, and features that
use nothing from after their cutoff."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from spark_fixtures import day, events_frame, table, utc

from glue_jobs.transforms.marts import prepared
from glue_jobs.transforms.marts.customer_features import customer_features
from glue_jobs.transforms.marts.customers import cohort_retention, rfm_segments
from glue_jobs.transforms.marts.intermediate import placed_orders

ORDERS_SCHEMA = (
    "id bigint, user_id bigint, status string, total decimal(12,2), "
    "refunded_amount decimal(12,2), placed_at timestamp, refunded_at timestamp, "
    "session_id string, subtotal decimal(12,2)"
)


def orders_frame(spark, rows: list[tuple]):
    """Prepared orders from (user_id, status, total, refunded, placed_at[, refunded_at]); ids
    by position, no session or subtotal (these marts read neither)."""
    padded = [(n, *row, *([None] * (8 - len(row)))) for n, row in enumerate(rows, start=1)]
    return prepared.orders(table(spark, ORDERS_SCHEMA, padded))


def test_cohort_retention_weeks_since_first_order(spark) -> None:
    orders = orders_frame(spark, [
        # Weeks start on Monday: 2026-09-28, 2026-10-05, 2026-10-12.
        (1, "delivered", 10, 0, "2026-10-01 09:00"),  # Thursday, week of 09-28
        (1, "delivered", 10, 0, "2026-10-04 23:00"),  # Sunday, still week 0
        (1, "delivered", 10, 0, "2026-10-13 09:00"),  # week 2
        (2, "delivered", 10, 0, "2026-09-28 00:00"),  # Monday 00:00, week of 09-28
        (2, "delivered", 10, 0, "2026-10-14 09:00"),  # week 2
        (4, "delivered", 10, 0, "2026-09-30 09:00"),  # week 0 only
        (3, "cancelled", 10, 0, "2026-09-29 09:00"),  # not a sale: user 3 joins on 10-05
        (3, "delivered", 10, 0, "2026-10-05 09:00"),
        (3, "delivered", 10, 0, "2026-10-12 09:00"),  # week 1 of cohort 10-05
    ])  # fmt: skip
    got = {
        (r.cohort_week, r.weeks_since): (r.cohort_size, r.active_customers, r.retention_rate)
        for r in cohort_retention(placed_orders(orders)).collect()
    }
    # Last week with an order: 10-12, so cohort 09-28 has weeks 0..2 and 10-05 weeks 0..1.
    assert got == {
        (day("2026-09-28"), 0): (3, 3, 1.0),  # users 1, 2, 4
        (day("2026-09-28"), 1): (3, 0, 0.0),  # nobody ordered in the week of 10-05
        (day("2026-09-28"), 2): (3, 2, pytest.approx(2 / 3)),  # users 1 and 2
        (day("2026-10-05"), 0): (1, 1, 1.0),
        (day("2026-10-05"), 1): (1, 1, 1.0),
    }


def test_rfm_for_five_customers(spark) -> None:
    orders = orders_frame(spark, [
        # C1: 6 orders of 100, the last 2 days before 11-01.
        *[(1, "delivered", 100, 0, f"2026-10-{d:02d} 10:00") for d in (5, 10, 15, 20, 25, 30)],
        # C2: one order of 50, 5 days before; a cancelled one and one on the as-of day ignored.
        (2, "delivered", 50, 0, "2026-10-27 10:00"),
        (2, "cancelled", 500, 0, "2026-10-28 10:00"),
        (2, "delivered", 1000, 0, "2026-11-01 10:00"),
        # C3: 4 x 100, the last on 09-22 (40 days before 11-01: 8 + 31 + 1).
        *[(3, "delivered", 100, 0, f"2026-{md} 10:00") for md in ("08-01", "08-15", "09-01",
                                                                    "09-22")],
        # C4: 100 + 150 (50 refunded) + 100 = 300 net, the last on 08-03 (90 days before).
        (4, "delivered", 100, 0, "2026-06-01 10:00"),
        (4, "partially_refunded", 150, 50, "2026-07-01 10:00", "2026-07-05 10:00"),
        (4, "delivered", 100, 0, "2026-08-03 10:00"),
        # C5: 2 x 50, the last on 10-12 (20 days before).
        (5, "delivered", 50, 0, "2026-09-12 10:00"),
        (5, "delivered", 50, 0, "2026-10-12 10:00"),
    ])  # fmt: skip
    got = {
        r.user_id: (r.recency_days, r.frequency, r.monetary, r.r_score, r.f_score, r.m_score,
                    r.segment)
        for r in rfm_segments(placed_orders(orders), day("2026-11-01")).collect()
    }  # fmt: skip
    # Distinct values, so each score is the rank 1..5 (score = 1 + floor(5 * (rank - 1) / 5)):
    #   recency 90, 40, 20, 5, 2 -> R 1..5 (older is worse); frequency 1, 2, 3, 4, 6 -> F 1..5;
    #   monetary 50, 100, 300, 400, 600 -> M 1..5.
    assert got == {
        1: (2, 6, Decimal("600.00"), 5, 5, 5, "champions"),  # R 5, FM 5
        2: (5, 1, Decimal("50.00"), 4, 1, 1, "new"),  # R 4, one order
        3: (40, 4, Decimal("400.00"), 2, 4, 4, "cannot_lose"),  # R 2, FM 4
        4: (90, 3, Decimal("300.00"), 1, 3, 3, "at_risk"),  # R 1, FM 3
        5: (20, 2, Decimal("100.00"), 3, 2, 2, "potential_loyalists"),  # R 3, FM 2
    }


CUTOFF = datetime(2026, 10, 1, tzinfo=UTC)
LATER_CUTOFF = datetime(2026, 10, 4, tzinfo=UTC)
USERS = [(1, "2026-01-01 00:00"), (2, "2026-09-15 12:00"), (3, "2026-10-05 00:00")]
ORDERS = [
    (1, "delivered", 100, 0, "2026-08-01 10:00"),
    (1, "refunded", 60, 60, "2026-09-05 10:00", "2026-09-10 10:00"),
    (1, "partially_refunded", 40, 15, "2026-09-29 12:00", "2026-10-03 10:00"),  # refund after
    (1, "delivered", 80, 0, "2026-10-02 10:00"),  # after the cutoff
    (2, "cancelled", 20, 0, "2026-09-20 00:00"),  # status has no date: counted as placed
]
SESSIONS = [
    # Last 28 days = [09-03, 10-01), previous 28 = [08-06, 09-03).
    (1, "2026-09-30 10:00"), (1, "2026-09-10 10:00"), (1, "2026-09-03 00:00"),
    (1, "2026-08-06 00:00"), (1, "2026-08-05 23:59"),  # previous window; too old
    (1, "2026-10-01 00:00"), (1, "2026-10-10 10:00"),  # at / after the cutoff
]  # fmt: skip
CART_EVENTS = [
    (1, "product_added_to_cart", "2026-09-01 10:00", "K1"),
    (1, "order_completed", "2026-09-01 10:30", "K1"),
    (1, "product_added_to_cart", "2026-09-20 10:00", "K2"),
    (1, "order_completed", "2026-10-02 10:00", "K2"),  # converted only after the cutoff
    (1, "product_added_to_cart", "2026-10-05 10:00", "K3"),
    (None, "product_added_to_cart", "2026-09-25 10:00", "K4"),  # anonymous visitor
    (2, "product_added_to_cart", "2026-09-29 10:00", "K5"),
]
TICKETS = [(1, "2026-09-15 10:00"), (1, "2026-10-01 00:00"), (2, "2026-10-20 10:00")]


def always(_: str) -> bool:
    return True


def before_cutoff(moment: str) -> bool:
    return utc(moment) < CUTOFF.replace(tzinfo=None)


def features(spark, cutoff: datetime, keep=always):
    """customer_features over the fixture; `keep(timestamp)` drops facts, so the same history
    can be given as the shop's database held it at an earlier time."""
    orders = [
        row if len(row) == 6 and keep(row[5]) else (*row[:3], 0, row[4])  # refund not yet made
        for row in ORDERS
        if keep(row[4])
    ]
    events = [
        {"event_id": f"x{n}", "user_id": user, "event_type": kind, "occurred_at": at,
         "properties": {"cart_id": cart}}
        for n, (user, kind, at, cart) in enumerate(CART_EVENTS)
        if keep(at)
    ]  # fmt: skip
    return customer_features(
        users=prepared.users(
            table(spark, "id bigint, signed_up_at timestamp", [u for u in USERS if keep(u[1])])
        ),
        orders=orders_frame(spark, orders),
        sessions=table(spark, "user_id bigint, started_at timestamp",
                       [s for s in SESSIONS if keep(s[1])]),
        support_tickets=prepared.support_tickets(
            table(spark, "user_id bigint, opened_at timestamp", [t for t in TICKETS if keep(t[1])])
        ),
        events=prepared.events(events_frame(spark, events)),
        cutoff=cutoff,
    )  # fmt: skip


FEATURE_COLUMNS = (
    "tenure_days", "recency_days", "frequency", "monetary", "avg_order_value",
    "sessions_last_28d", "sessions_prev_28d", "visit_trend", "carts_started", "carts_converted",
    "cart_abandonment_rate", "tickets", "refunds", "refund_amount",
)  # fmt: skip


def by_user(frame) -> dict[int, tuple]:
    return {r.user_id: tuple(r[name] for name in FEATURE_COLUMNS) for r in frame.collect()}


def test_customer_features_as_of_cutoff(spark) -> None:
    D = Decimal  # noqa: N806
    assert by_user(features(spark, CUTOFF)) == {
        # tenure 01-01 -> 10-01 = 273 days; last order 09-29 12:00 -> 1.5 days -> 1;
        # 3 orders 100 + 60 + 40 = 200, minus the 60 refunded before the cutoff = 140
        # (the 15 refunded on 10-03 is not known yet); average 200 / 3 = 66.67;
        # sessions 09-30, 09-10, 09-03 in the last 28 days, 08-06 before: trend 3 - 1 = 2;
        # carts K1 (converted), K2 (converted only on 10-02): abandonment 1 - 1/2;
        # one ticket (the 10-01 00:00 one is not before the cutoff); one refund of 60.
        1: (273, 1, 3, D("140.00"), D("66.67"), 3, 1, 2, 2, 1, 0.5, 1, 1, D("60.00")),
        # tenure 09-15 12:00 -> 10-01 = 15.5 -> 15 days; the cancelled order counts: 20,
        # 11 days ago; cart K5 never converted; the ticket on 10-20 is in the future.
        2: (15, 11, 1, D("20.00"), D("20.00"), 0, 0, 0, 1, 0, 1.0, 0, 0, D("0.00")),
        # user 3 signs up on 10-05: not a customer yet.
    }


def test_customer_features_ignore_everything_after_the_cutoff(spark) -> None:
    # The history as the database held it at the cutoff gives the same features.
    assert by_user(features(spark, CUTOFF, keep=before_cutoff)) == by_user(features(spark, CUTOFF))
    # Moving the cutoff to 10-04 brings in what happened in between, for user 1: order 4
    # (80), the 15 refund of 10-03, K2's conversion on 10-02 and the ticket of 10-01.
    later = dict(zip(FEATURE_COLUMNS, by_user(features(spark, LATER_CUTOFF))[1], strict=True))
    # 100 + 60 + 40 + 80 = 280 spent, 60 + 15 = 75 refunded -> 205; last order 10-02 10:00,
    # 1.58 days before 10-04 -> 1; K1 and K2 converted -> abandonment 0; tenure 276 days.
    assert later == {
        **later,
        "tenure_days": 276, "recency_days": 1, "frequency": 4, "monetary": Decimal("205.00"),
        "carts_started": 2, "carts_converted": 2, "cart_abandonment_rate": 0.0,
        "tickets": 2, "refunds": 2, "refund_amount": Decimal("75.00"),
    }  # fmt: skip
