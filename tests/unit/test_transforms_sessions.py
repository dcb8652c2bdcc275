"""Sessionization on a hand-built clickstream; every expected value is worked out below."""

from __future__ import annotations

import hashlib

import pytest
from spark_fixtures import utc

from glue_jobs.transforms.sessions import assign_sessions, summarize_sessions


def derived_id(anonymous_id: str, first_event_id: str) -> str:
    """The id an inactivity session gets, computed independently with hashlib."""
    digest = hashlib.md5(f"{anonymous_id}|{first_event_id}".encode()).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:]}"


# Visitor A: client session s-a whose events are 29 then 31 minutes apart -> the client id is
#   wrong (it spans a 31-minute gap) and is split into {a1, a2} and {a3}.
# Visitor B: client session s-b, arriving out of order (b3 before b1 before b2); gaps 10 and
#   10 minutes -> trusted, keeps s-b.
# Visitor C: no session id; 09:00 -> 09:30 is exactly 30 minutes (same session), 09:30 ->
#   10:01 is 31 minutes (new session).
# Visitors D and E share client id s-shared -> wrong for both, each gets a derived session.
# Visitor F: no session id, 30 minutes and half a second apart -> two sessions.
CLICKSTREAM = [
    {"event_id": "a1", "occurred_at": "2026-10-01 10:00", "anonymous_id": "visitor-a",
     "session_id": "s-a", "page_path": "/home", "traffic_source": "email"},
    {"event_id": "a2", "occurred_at": "2026-10-01 10:29", "anonymous_id": "visitor-a",
     "session_id": "s-a", "event_type": "product_viewed", "page_path": "/p/1",
     "traffic_source": "direct"},
    {"event_id": "a3", "occurred_at": "2026-10-01 11:00", "anonymous_id": "visitor-a",
     "session_id": "s-a", "page_path": "/cart"},
    {"event_id": "b3", "occurred_at": "2026-10-01 12:20", "anonymous_id": "visitor-b",
     "session_id": "s-b", "event_type": "order_completed", "user_id": 7, "channel": "mobile_app"},
    {"event_id": "b1", "occurred_at": "2026-10-01 12:00", "anonymous_id": "visitor-b",
     "session_id": "s-b", "event_type": "session_started", "page_path": "/landing",
     "traffic_source": "paid_search", "channel": "mobile_app"},
    {"event_id": "b2", "occurred_at": "2026-10-01 12:10", "anonymous_id": "visitor-b",
     "session_id": "s-b", "page_path": "/p/2", "channel": "mobile_app"},
    {"event_id": "c1", "occurred_at": "2026-10-01 09:00", "anonymous_id": "visitor-c",
     "page_path": "/a"},
    {"event_id": "c2", "occurred_at": "2026-10-01 09:30", "anonymous_id": "visitor-c",
     "page_path": "/b"},
    {"event_id": "c3", "occurred_at": "2026-10-01 10:01", "anonymous_id": "visitor-c",
     "page_path": "/c"},
    {"event_id": "d1", "occurred_at": "2026-10-01 08:00", "anonymous_id": "visitor-d",
     "session_id": "s-shared", "page_path": "/d"},
    {"event_id": "e1", "occurred_at": "2026-10-01 08:05", "anonymous_id": "visitor-e",
     "session_id": "s-shared", "page_path": "/e"},
    {"event_id": "f1", "occurred_at": "2026-10-01 07:00:00", "anonymous_id": "visitor-f"},
    {"event_id": "f2", "occurred_at": "2026-10-01 07:30:00.500", "anonymous_id": "visitor-f"},
]  # fmt: skip


@pytest.fixture
def clickstream(make_events):
    return make_events(CLICKSTREAM)


def test_assign_sessions_splits_on_gaps_over_30_minutes(clickstream) -> None:
    rows = assign_sessions(clickstream).select(
        "event_id", "session_id", "client_session_id", "session_source"
    )
    got = {
        r.event_id: (r.session_id, r.client_session_id, r.session_source) for r in rows.collect()
    }

    a_first, a_second = derived_id("visitor-a", "a1"), derived_id("visitor-a", "a3")
    c_first, c_second = derived_id("visitor-c", "c1"), derived_id("visitor-c", "c3")
    assert got == {
        "a1": (a_first, "s-a", "inactivity"),
        "a2": (a_first, "s-a", "inactivity"),  # 29 min after a1: same session
        "a3": (a_second, "s-a", "inactivity"),  # 31 min after a2: new session
        "b1": ("s-b", "s-b", "client"),
        "b2": ("s-b", "s-b", "client"),
        "b3": ("s-b", "s-b", "client"),
        "c1": (c_first, None, "inactivity"),
        "c2": (c_first, None, "inactivity"),  # exactly 30 min: same session
        "c3": (c_second, None, "inactivity"),  # 31 min: new session
        "d1": (derived_id("visitor-d", "d1"), "s-shared", "inactivity"),
        "e1": (derived_id("visitor-e", "e1"), "s-shared", "inactivity"),
        "f1": (derived_id("visitor-f", "f1"), None, "inactivity"),
        "f2": (derived_id("visitor-f", "f2"), None, "inactivity"),  # 1800.5 s > 1800 s
    }


def test_summarize_sessions_out_of_order_and_split(clickstream) -> None:
    sessions = summarize_sessions(assign_sessions(clickstream))
    got = {r.session_id: r.asDict() for r in sessions.collect()}

    assert len(got) == 9  # A: 2, B: 1, C: 2, D: 1, E: 1, F: 2

    b = got["s-b"]
    # Arrived b3, b1, b2; ordered by occurred_at: b1 12:00, b2 12:10, b3 12:20.
    assert (b["started_at"], b["ended_at"]) == (utc("2026-10-01 12:00"), utc("2026-10-01 12:20"))
    assert b["duration_seconds"] == 1200  # 20 min * 60
    assert (b["event_count"], b["page_count"]) == (3, 1)  # one page_viewed (b2)
    assert (b["entry_page"], b["exit_page"]) == ("/landing", "/p/2")  # b3 has no page
    assert (b["traffic_source"], b["channel"], b["user_id"]) == ("paid_search", "mobile_app", 7)
    assert (b["converted"], b["order_count"], b["reached_add_to_cart"]) == (True, 1, False)

    a1 = got[derived_id("visitor-a", "a1")]
    assert a1["duration_seconds"] == 1740  # 10:00 -> 10:29 = 29 min * 60
    assert (a1["event_count"], a1["page_count"]) == (2, 1)  # a2 is a product view
    assert (a1["entry_page"], a1["exit_page"]) == ("/home", "/p/1")
    assert (a1["traffic_source"], a1["reached_product_view"], a1["converted"]) == (
        "email",
        True,
        False,
    )
    a3 = got[derived_id("visitor-a", "a3")]
    assert (a3["duration_seconds"], a3["entry_page"], a3["exit_page"]) == (0, "/cart", "/cart")
    assert a3["client_session_id"] == "s-a"

    c1 = got[derived_id("visitor-c", "c1")]
    assert (c1["duration_seconds"], c1["event_count"]) == (1800, 2)  # 09:00 -> 09:30
    assert c1["session_source"] == "inactivity"
    assert str(c1["session_date"]) == "2026-10-01"


# Client session ids that equal a visitor id (a client sending its device id as session id):
# Visitor G sends its own id "visitor-g" as session id at 10:00 and 10:10, and two events
#   without one at 12:00 and 12:05. "visitor-g" has one visitor and no long gap -> trusted;
#   the two others form one inactivity session (5 min apart) opened by g3.
# Visitor J sends "visitor-k" at 08:00; visitor K also sends "visitor-k" at 08:01 -> shared by
#   two visitors, so neither keeps it.
SELF_NAMED = [
    {"event_id": "g1", "occurred_at": "2026-10-02 10:00", "anonymous_id": "visitor-g",
     "session_id": "visitor-g"},
    {"event_id": "g2", "occurred_at": "2026-10-02 10:10", "anonymous_id": "visitor-g",
     "session_id": "visitor-g"},
    {"event_id": "g3", "occurred_at": "2026-10-02 12:00", "anonymous_id": "visitor-g"},
    {"event_id": "g4", "occurred_at": "2026-10-02 12:05", "anonymous_id": "visitor-g"},
    {"event_id": "j1", "occurred_at": "2026-10-02 08:00", "anonymous_id": "visitor-j",
     "session_id": "visitor-k"},
    {"event_id": "k1", "occurred_at": "2026-10-02 08:01", "anonymous_id": "visitor-k",
     "session_id": "visitor-k"},
]  # fmt: skip


def test_assign_sessions_client_ids_equal_to_visitor_ids(make_events) -> None:
    rows = assign_sessions(make_events(SELF_NAMED)).select("event_id", "session_id")
    got = {r.event_id: r.session_id for r in rows.collect()}

    g_inactive = derived_id("visitor-g", "g3")
    assert got == {
        "g1": "visitor-g",
        "g2": "visitor-g",
        "g3": g_inactive,
        "g4": g_inactive,  # 5 min after g3
        "j1": derived_id("visitor-j", "j1"),
        "k1": derived_id("visitor-k", "k1"),
    }


# Two events at the same instant: the tie is broken by event_id (t1 before t2), whatever the
# arrival order; t3 comes later and has no page.
SAME_INSTANT = [
    {"event_id": "t2", "occurred_at": "2026-10-03 10:00", "anonymous_id": "visitor-t",
     "session_id": "s-t", "page_path": "/second", "channel": "web", "traffic_source": "email"},
    {"event_id": "t1", "occurred_at": "2026-10-03 10:00", "anonymous_id": "visitor-t",
     "session_id": "s-t", "page_path": "/first", "channel": "mobile_app",
     "traffic_source": "social"},
    {"event_id": "t3", "occurred_at": "2026-10-03 10:05", "anonymous_id": "visitor-t",
     "session_id": "s-t", "channel": "web"},
]  # fmt: skip


def test_summarize_sessions_breaks_time_ties_by_event_id(make_events) -> None:
    (session,) = summarize_sessions(assign_sessions(make_events(SAME_INSTANT))).collect()

    assert (session.session_id, session.event_count) == ("s-t", 3)
    assert (session.entry_page, session.exit_page) == ("/first", "/second")
    assert (session.channel, session.traffic_source) == ("mobile_app", "social")  # t1's
    assert session.duration_seconds == 300  # 10:00 -> 10:05
