"""mart_sessions_daily over hand-made sessions, from events through sessionization: bounces,
engagement, entry page types and conversion, each varied across devices and entry pages."""

from __future__ import annotations

import pytest
from spark_fixtures import day

from glue_jobs.transforms.marts.sessions import sessions_daily
from glue_jobs.transforms.sessions import assign_sessions, summarize_sessions

PAGE_EVENT = "page_viewed"


def visit(
    session: str, start: str, steps: list[tuple[int, str, str | None]], **envelope: str
) -> list[dict]:
    """One client session of its own visitor: (seconds after `start`, event type, page type
    of a page_viewed event), with channel/device overrides."""
    return [
        {"event_id": f"{session}-{n}", "occurred_at": f"{start}:{seconds:02d}",
         "anonymous_id": f"visitor-{session}", "session_id": session, "event_type": event_type,
         "page_path": f"/{page_type or 'x'}/{n}",
         "properties": {"page_type": page_type} if event_type == PAGE_EVENT else None,
         **envelope}
        for n, (seconds, event_type, page_type) in enumerate(steps)
    ]  # fmt: skip


WEB_DESKTOP = {"channel": "web", "device_type": "desktop"}
WEB_MOBILE = {"channel": "web", "device_type": "mobile"}
APP_TABLET = {"channel": "mobile_app", "device_type": "tablet"}


@pytest.fixture
def mart_rows(make_events) -> dict[tuple, dict]:
    events = make_events(
        # S1: one page, nothing else: bounced.
        visit("S1", "2026-10-01 10:00", [(0, PAGE_EVENT, "home")], **WEB_DESKTOP)
        # S4: two pages in 5 s: not bounced, not engaged (under 10 s).
        + visit("S4", "2026-10-01 11:00", [(0, PAGE_EVENT, "home"), (5, PAGE_EVENT, "category")],
                **WEB_DESKTOP)
        # S2: lands on a product, adds it to the cart 50 s later: one page, yet engaged.
        + visit("S2", "2026-10-01 12:00", [(0, PAGE_EVENT, "product"),
                (1, "product_viewed", None), (50, "product_added_to_cart", None)], **WEB_MOBILE)
        # S6: one product page read for 40 s and left: bounced however long it lasted.
        + visit("S6", "2026-10-01 13:00", [(0, PAGE_EVENT, "product"),
                (40, "product_viewed", None)], **WEB_MOBILE)
        # S7: a cart add 5 s after landing: not bounced, not engaged.
        + visit("S7", "2026-10-01 14:00", [(0, PAGE_EVENT, "product"),
                (5, "product_added_to_cart", None)], **WEB_MOBILE)
        # S3: category entry, buys twice in one visit on the app.
        + visit("S3", "2026-10-01 15:00", [(0, PAGE_EVENT, "category"), (20, PAGE_EVENT, "product"),
                (25, "product_added_to_cart", None), (30, "checkout_started", None),
                (45, "order_completed", None), (59, "order_completed", None)], **APP_TABLET)
        # S5: next day, no page view at all (an app event only): entry "none", bounced.
        + visit("S5", "2026-10-02 09:00", [(0, "product_viewed", None)], **WEB_DESKTOP)
    )  # fmt: skip
    sessionized = assign_sessions(events)
    rows = sessions_daily(summarize_sessions(sessionized), sessionized).collect()
    return {
        (row["session_date"], row["channel"], row["device_type"], row["entry_page_type"]): row
        for row in (row.asDict() for row in rows)
    }


COUNTS = (
    "sessions", "bounced_sessions", "engaged_sessions", "converted_sessions", "orders",
    "page_views",
)  # fmt: skip


def test_one_row_per_day_channel_device_and_entry_page_type(mart_rows) -> None:
    first, second = day("2026-10-01"), day("2026-10-02")
    assert set(mart_rows) == {
        (first, "web", "desktop", "home"),
        (first, "web", "mobile", "product"),
        (first, "mobile_app", "tablet", "category"),
        (second, "web", "desktop", "none"),
    }


@pytest.mark.parametrize(
    ("key", "counts", "bounce_rate", "conversion_rate"),
    [
        # S1 bounced, S4 did not; neither engaged; 1 + 2 page views.
        (("2026-10-01", "web", "desktop", "home"), [2, 1, 0, 0, 0, 3], 0.5, 0.0),
        # S6 bounced; S2 engaged; S7 neither; one page view each.
        (("2026-10-01", "web", "mobile", "product"), [3, 1, 1, 0, 0, 3], 1 / 3, 0.0),
        # S3: engaged, converted with two orders over two pages.
        (("2026-10-01", "mobile_app", "tablet", "category"), [1, 0, 1, 1, 2, 2], 0.0, 1.0),
        # S5: no page view, so no entry page and a bounce.
        (("2026-10-02", "web", "desktop", "none"), [1, 1, 0, 0, 0, 0], 1.0, 0.0),
    ],
)
def test_counts_and_rates_per_row(mart_rows, key, counts, bounce_rate, conversion_rate) -> None:
    row = mart_rows[(day(key[0]), *key[1:])]
    assert [row[name] for name in COUNTS] == counts
    assert row["bounce_rate"] == pytest.approx(bounce_rate)
    assert row["conversion_rate"] == pytest.approx(conversion_rate)
