"""The daily funnel over three hand-made sessions, from events through sessionization."""

from __future__ import annotations

import pytest
from spark_fixtures import day

from glue_jobs.transforms.marts.funnel import funnel_daily
from glue_jobs.transforms.sessions import assign_sessions, summarize_sessions


def session_events(session: str, *event_types: str) -> list[dict]:
    """One event per type, a minute apart, in one client session of its own visitor."""
    return [
        {"event_id": f"{session}-{n}", "occurred_at": f"2026-10-01 10:0{n}",
         "anonymous_id": f"visitor-{session}", "session_id": session, "event_type": event_type}
        for n, event_type in enumerate(event_types)
    ]  # fmt: skip


def test_funnel_over_three_sessions(make_events) -> None:
    events = make_events(
        # S1 goes all the way; S2 stops at the cart; S3 starts a checkout without adding to
        # the cart, so the closed funnel counts it at the view step only.
        session_events("S1", "product_viewed", "product_added_to_cart", "checkout_started",
                       "order_completed")
        + session_events("S2", "product_viewed", "product_added_to_cart")
        + session_events("S3", "page_viewed", "product_viewed", "checkout_started")
    )  # fmt: skip
    rows = funnel_daily(summarize_sessions(assign_sessions(events))).collect()

    assert len(rows) == 1
    row = rows[0].asDict()
    assert (row["session_date"], row["channel"]) == (day("2026-10-01"), "web")
    # sessions 3 -> viewed 3 (S1, S2, S3) -> carted 2 (S1, S2) -> checkout 1 (S1) -> bought 1
    assert [row[name] for name in (
        "sessions", "product_view_sessions", "add_to_cart_sessions", "checkout_sessions",
        "purchase_sessions", "orders",
    )] == [3, 3, 2, 1, 1, 1]  # fmt: skip
    assert row["dropoff_to_product_view"] == 0.0  # 1 - 3/3
    assert row["dropoff_to_add_to_cart"] == pytest.approx(1 / 3)  # 1 - 2/3
    assert row["dropoff_to_checkout"] == 0.5  # 1 - 1/2
    assert row["dropoff_to_purchase"] == 0.0  # 1 - 1/1
