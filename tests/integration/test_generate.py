"""The synthetic store on a real PostgreSQL: determinism, OLTP/event agreement, contract
validity, behaviour within the documented ranges, refusal to overwrite, and the CLI."""

from __future__ import annotations

import gzip
import hashlib
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import orjson
import psycopg
import pytest
from typer.testing import CliRunner

from contracts.events import validate_event
from data_generators import (
    GenerationSettings,
    StoreNotEmptyError,
    generate_store,
    summarize_store,
)
from local_platform.cli import app

pytestmark = pytest.mark.integration
runner = CliRunner()
SMALL = GenerationSettings(users=150, days=21)
CONTENT_TABLES = (
    "users", "categories", "products", "inventory", "inventory_movements", "sessions", "carts",
    "cart_items", "orders", "order_items", "support_tickets", "synthetic.customer_profiles",
)  # fmt: skip
REPO = Path(__file__).resolve().parents[2]


def _events(path: Path) -> list[dict]:
    with gzip.open(path, "rb") as lines:
        return [orjson.loads(line) for line in lines]


def _content_hash(url: str) -> str:
    """Digest of every generated row, computed by PostgreSQL."""
    with psycopg.connect(url) as conn:
        digests = [
            conn.execute(
                "SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), ''))"
                f" FROM {table} t"
            ).fetchone()[0]
            for table in CONTENT_TABLES
        ]
    return hashlib.sha256("".join(digests).encode()).hexdigest()


def _file_hash(path: Path) -> str:
    with gzip.open(path, "rb") as data:
        return hashlib.sha256(data.read()).hexdigest()


def _query(url: str, sql: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchall()


def _by_id(url: str, sql: str) -> dict:
    """The query's rows keyed by their first column."""
    return {row[0]: row[1:] for row in _query(url, sql)}


def _of_type(events: list[dict], event_type: str) -> list[dict]:
    return [e for e in events if e["event_type"] == event_type]


def _money(value: float) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.fixture
def small_store(migrated_database: str, tmp_path: Path) -> tuple[str, list[dict], dict]:
    path = tmp_path / "events.jsonl.gz"
    result = generate_store(SMALL, migrated_database, events_out=path, progress=False)
    return migrated_database, _events(path), result.events_per_type


def test_same_seed_same_store_other_seed_another(empty_database: str, tmp_path: Path) -> None:
    first, again, other = (tmp_path / f"{name}.jsonl.gz" for name in ("a", "b", "c"))
    generate_store(SMALL, empty_database, events_out=first, progress=False)
    rows_first = _content_hash(empty_database)
    generate_store(SMALL, empty_database, events_out=again, reset=True, progress=False)
    rows_again = _content_hash(empty_database)
    reseeded = SMALL.model_copy(update={"seed": 7})
    generate_store(reseeded, empty_database, events_out=other, reset=True, progress=False)
    rows_other = _content_hash(empty_database)

    assert rows_again == rows_first
    assert _file_hash(again) == _file_hash(first)
    assert rows_other != rows_first
    assert _file_hash(other) != _file_hash(first)
    runs = _query(empty_database, "SELECT seed, users, days FROM synthetic.generation_runs")
    assert runs == [(7, 150, 21)]  # a reset also empties the run log


def test_every_event_is_valid_counted_and_in_time_order(small_store) -> None:
    _, events, per_type = small_store

    assert [reason for event in events for reason in validate_event(event)] == []
    assert Counter(e["event_type"] for e in events) == per_type
    times = [_time(e["occurred_at"]) for e in events]
    assert times == sorted(times)
    assert len({e["event_id"] for e in events}) == len(events)


def test_every_order_has_one_matching_order_completed_event(small_store) -> None:
    url, events, _ = small_store
    orders = _query(
        url,
        """
        SELECT o.id, o.user_id, o.session_id::text, o.cart_id::text, o.payment_method,
               o.subtotal, o.discount, o.shipping, o.tax, o.total, o.placed_at,
               array_agg(ARRAY[i.product_id, i.quantity]::text || i.unit_price::text
                         || '/' || i.line_total::text ORDER BY i.product_id)
        FROM orders o JOIN order_items i ON i.order_id = o.id GROUP BY o.id
        """,
    )
    completed = defaultdict(list)
    for event in events:
        if event["event_type"] == "order_completed":
            completed[event["properties"]["order_id"]].append(event)

    assert len(orders) >= 10
    assert sorted(completed) == sorted(row[0] for row in orders)
    for order_id, user, session, cart, method, *money, placed_at, items in orders:
        (event,) = completed[order_id]
        props = event["properties"]
        assert (event["user_id"], event["session_id"], props["cart_id"]) == (user, session, cart)
        assert props["payment_method"] == method
        assert [
            _money(props[k]) for k in ("subtotal", "discount", "shipping", "tax", "total")
        ] == money
        assert _time(event["occurred_at"]) == placed_at
        event_items = sorted(
            f"{{{i['product_id']},{i['quantity']}}}{_money(i['unit_price'])}/{_money(i['line_total'])}"
            for i in props["items"]
        )
        assert event_items == sorted(items)


def test_refunds_and_tickets_match_their_events(small_store) -> None:
    url, events, _ = small_store
    refunded = _by_id(
        url, "SELECT id, refunded_amount, refunded_at FROM orders WHERE refunded_amount > 0"
    )
    refund_events = {
        e["properties"]["order_id"]: (
            _money(e["properties"]["refund_amount"]),
            _time(e["occurred_at"]),
        )
        for e in _of_type(events, "order_refunded")
    }
    tickets = _by_id(
        url, "SELECT id, user_id, order_id, category, priority, opened_at FROM support_tickets"
    )
    ticket_events = {
        e["properties"]["ticket_id"]: (
            e["user_id"], e["properties"]["order_id"], e["properties"]["category"],
            e["properties"]["priority"], _time(e["occurred_at"]),
        )
        for e in _of_type(events, "support_ticket_opened")
    }  # fmt: skip

    assert len(_of_type(events, "order_refunded")) == len(refund_events)
    assert refund_events == refunded
    assert ticket_events == tickets
    assert tickets  # the 150-customer store has tickets to compare


def test_every_session_row_matches_its_events(small_store) -> None:
    url, events, _ = small_store
    by_session = defaultdict(list)
    for event in events:
        by_session[event["session_id"]].append(event)
    sessions = _query(
        url,
        """
        SELECT id::text, user_id, anonymous_id::text, channel, device_type, traffic_source,
               landing_page, exit_page, referrer, utm_source, utm_medium, utm_campaign,
               page_views, event_count, started_at, ended_at
        FROM sessions
        """,
    )

    assert sorted(by_session) == sorted(row[0] for row in sessions)
    for session_id, user, anonymous, channel, device, source, *rest in sessions:
        landing, exit_page, referrer, utm_source, utm_medium, utm_campaign, *counts = rest
        page_views, event_count, started_at, ended_at = counts
        mine = by_session[session_id]
        pages = [e["properties"]["path"] for e in mine if e["event_type"] == "page_viewed"]
        first = mine[0]
        utm = first["context"]["utm"] or {}

        assert first["event_type"] == "session_started"
        assert first["properties"]["landing_page"] == landing
        assert (_time(first["occurred_at"]), _time(mine[-1]["occurred_at"])) == (
            started_at,
            ended_at,
        )
        assert (len(mine), len(pages), pages[-1]) == (event_count, page_views, exit_page)
        for event in mine:
            context = event["context"]
            assert (event["user_id"], event["anonymous_id"]) == (user, anonymous)
            assert (context["channel"], context["device"]["type"]) == (channel, device)
            assert (context["traffic_source"], context["referrer"]) == (source, referrer)
        assert (utm.get("source"), utm.get("medium"), utm.get("campaign")) == (
            utm_source, utm_medium, utm_campaign,
        )  # fmt: skip


def test_cart_rows_are_what_the_cart_events_left(small_store) -> None:
    url, events, _ = small_store
    net = defaultdict(Counter)
    for event in events:
        props = event["properties"]
        if event["event_type"] == "product_added_to_cart":
            net[props["cart_id"]][props["product_id"]] += props["quantity"]
        elif event["event_type"] == "product_removed_from_cart":
            net[props["cart_id"]][props["product_id"]] -= props["quantity"]
    lines = defaultdict(Counter)
    for cart, product, quantity in _query(
        url, "SELECT cart_id::text, product_id, quantity FROM cart_items"
    ):
        lines[cart][product] = quantity
    carts = {row[0] for row in _query(url, "SELECT id::text FROM carts")}

    assert carts == set(net)
    assert {cart: +counts for cart, counts in net.items() if +counts} == dict(lines)


def test_inventory_on_hand_is_the_sum_of_its_ledger(migrated_database: str) -> None:
    # The demo's size: returns, restocks and stock-outs all happen, up to the last day.
    generate_store(GenerationSettings(users=1000, days=30), migrated_database, progress=False)
    url = migrated_database
    mismatched = _query(
        url,
        """
        SELECT i.product_id FROM inventory i
        LEFT JOIN (SELECT product_id, sum(quantity) AS total FROM inventory_movements GROUP BY 1) m
          USING (product_id)
        WHERE m.total IS DISTINCT FROM i.on_hand
        """,
    )
    lowest = _query(
        url,
        """
        SELECT min(balance) FROM (
            SELECT sum(quantity) OVER (PARTITION BY product_id ORDER BY occurred_at, id) AS balance
            FROM inventory_movements) running
        """,
    )[0][0]
    sold = _query(
        url,
        """
        SELECT (SELECT sum(quantity) FROM order_items),
               (SELECT -sum(quantity) FROM inventory_movements WHERE reason = 'order')
        """,
    )[0]

    reasons = dict(_query(url, "SELECT reason, count(*) FROM inventory_movements GROUP BY 1"))

    assert mismatched == []
    assert lowest >= 0
    assert sold[0] == sold[1]
    assert {"adjustment", "order", "restock", "return"} <= set(reasons)


# Documented in docs/data_generation.md for 1,000 customers x 30 days, any seed.
BEHAVIOUR_RANGES = {
    "session_to_order_conversion": (0.025, 0.055),
    "cart_abandonment_rate": (0.58, 0.78),
    "churn_share": (0.07, 0.18),
}


def test_behaviour_falls_within_documented_ranges(migrated_database: str) -> None:
    settings = GenerationSettings(users=1000, days=30, seed=2024)
    generate_store(settings, migrated_database, progress=False)
    summary = summarize_store(migrated_database)

    for figure, (low, high) in BEHAVIOUR_RANGES.items():
        assert low <= getattr(summary, figure) <= high, figure
    assert summary.net_revenue < summary.gross_revenue


def test_churners_show_warning_signs_before_going_quiet(migrated_database: str) -> None:
    settings = GenerationSettings(users=2000, days=56, seed=11)
    generate_store(settings, migrated_database, progress=False)
    # Per customer, the four weeks before churn (churners) or before the window's end
    # (stayers): tickets, refunds, and sessions in the first and the second fortnight.
    signs = _query(
        migrated_database,
        """
        WITH run AS (SELECT start_date::timestamptz AS starts,
                            (start_date + days)::timestamptz AS ends
                     FROM synthetic.generation_runs),
        watched AS (
            SELECT p.user_id, p.churned, coalesce(p.churned_at, run.ends) AS quiet_from
            FROM synthetic.customer_profiles p JOIN users u ON u.id = p.user_id, run
            WHERE coalesce(p.churned_at, run.ends) - interval '28 days'
                  >= greatest(u.signed_up_at, run.starts))
        SELECT w.churned,
               (SELECT count(*) FROM support_tickets t WHERE t.user_id = w.user_id
                  AND t.opened_at >= w.quiet_from - interval '28 days'
                  AND t.opened_at < w.quiet_from),
               (SELECT count(*) FROM orders o WHERE o.user_id = w.user_id
                  AND o.refunded_at >= w.quiet_from - interval '28 days'
                  AND o.refunded_at < w.quiet_from),
               (SELECT count(*) FROM sessions s WHERE s.user_id = w.user_id
                  AND s.started_at >= w.quiet_from - interval '28 days'
                  AND s.started_at < w.quiet_from - interval '14 days'),
               (SELECT count(*) FROM sessions s WHERE s.user_id = w.user_id
                  AND s.started_at >= w.quiet_from - interval '14 days'
                  AND s.started_at < w.quiet_from)
        FROM watched w
        """,
    )
    groups = {True: [], False: []}
    for churned, *measures in signs:
        groups[churned].append(measures)

    def with_ticket(rows: list) -> float:
        return sum(1 for r in rows if r[0] > 0) / len(rows)

    def refunds(rows: list) -> float:
        return sum(r[1] for r in rows) / len(rows)

    def visit_trend(rows: list) -> float:
        return sum(r[3] for r in rows) / sum(r[2] for r in rows)

    churners, stayers = groups[True], groups[False]
    assert len(churners) >= 100
    assert with_ticket(churners) > 3 * with_ticket(stayers)
    assert refunds(churners) > 1.5 * refunds(stayers)
    assert visit_trend(churners) < 0.8
    assert visit_trend(stayers) > 0.9


def test_refuses_a_non_empty_database_without_reset(migrated_database: str, tmp_path: Path) -> None:
    tiny = GenerationSettings(users=20, days=3)
    generate_store(tiny, migrated_database, events_out=tmp_path / "first.jsonl", progress=False)
    before = _content_hash(migrated_database)

    with pytest.raises(StoreNotEmptyError, match="pass --reset"):
        generate_store(tiny.model_copy(update={"seed": 5}), migrated_database,
                       events_out=tmp_path / "second.jsonl", progress=False)  # fmt: skip
    result = runner.invoke(
        app, ["generate", "--users", "20", "--days", "3", "--seed", "5",
              "--database-url", migrated_database, "--events-out", str(tmp_path / "third.jsonl")],
    )  # fmt: skip

    message = " ".join(result.output.split())  # the console wraps long lines
    assert result.exit_code == 1
    assert "pass --reset to replace it. Nothing was written." in message
    assert _content_hash(migrated_database) == before
    assert not (tmp_path / "second.jsonl").exists()
    assert not (tmp_path / "third.jsonl").exists()


def test_history_rows_in_postgresql_match_the_generators_counts(
    empty_database: str, tmp_path: Path
) -> None:
    settings = GenerationSettings(users=300, days=7, seed=5, history_days=120)
    path = tmp_path / "events.jsonl.gz"
    result = generate_store(settings, empty_database, events_out=path, progress=False)
    window = settings.start_date
    with psycopg.connect(empty_database) as conn:
        history = conn.execute(
            "SELECT (SELECT count(*) FROM orders WHERE placed_at < %(w)s),"
            " (SELECT count(*) FROM order_items i JOIN orders o ON o.id = i.order_id"
            "   WHERE o.placed_at < %(w)s),"
            " (SELECT count(*) FROM support_tickets WHERE opened_at < %(w)s),"
            " (SELECT min(placed_at)::date FROM orders),"
            " (SELECT count(*) FROM orders WHERE placed_at < %(w)s"
            "   AND (session_id IS NOT NULL OR cart_id IS NOT NULL)),"
            " (SELECT count(*) FROM orders o JOIN users u ON u.id = o.user_id"
            "   WHERE o.placed_at < u.signed_up_at),"
            " (SELECT count(*) FROM orders WHERE placed_at >= %(w)s),"
            " (SELECT min(occurred_at)::date FROM inventory_movements)",
            {"w": window},
        ).fetchone()
    events = _events(path)
    summary = summarize_store(empty_database)

    orders, items, tickets, first, unlinked, too_early, in_window, ledger_opens = history
    assert (orders, items, tickets) == (
        result.history_rows_per_table["orders"],
        result.history_rows_per_table["order_items"],
        result.history_rows_per_table["support_tickets"],
    )
    assert orders > 0
    assert items >= orders
    assert summary.rows_per_table == result.rows_per_table
    assert first >= settings.history_start_date
    assert (unlinked, too_early) == (0, 0)
    assert ledger_opens == window
    # The clickstream covers the window only: one order_completed per window order.
    assert min(_time(e["occurred_at"]).date() for e in events) == window
    assert len(_of_type(events, "order_completed")) == in_window
    assert summary.session_to_order_conversion == in_window / summary.sessions


def test_cli_generates_a_store_and_prints_its_summary(empty_database: str, tmp_path: Path) -> None:
    out = tmp_path / "clicks.jsonl"
    result = runner.invoke(
        app, ["generate", "--users", "40", "--days", "5", "--database-url", empty_database,
              "--events-out", str(out)],
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert "session-to-order conversion" in result.output
    assert "before the window" not in result.output
    assert _query(empty_database, "SELECT count(*) FROM users") == [(40,)]
    assert (
        len(out.read_text().splitlines())
        == _query(empty_database, "SELECT sum(event_count) FROM sessions")[0][0]
    )


def test_cli_generates_a_history_and_reports_it(empty_database: str, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["generate", "--users", "60", "--days", "5", "--history-days", "90",
              "--database-url", empty_database, "--events-out", str(tmp_path / "clicks.jsonl")],
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    [(orders, tickets)] = _query(
        empty_database,
        "SELECT (SELECT count(*) FROM orders WHERE placed_at < '2026-09-26'),"
        " (SELECT count(*) FROM support_tickets WHERE opened_at < '2026-09-26')",
    )
    assert orders > 0
    assert f"{orders:,} orders, {tickets:,} tickets" in " ".join(result.output.split())


@pytest.mark.parametrize(
    ("arguments", "mentions"),
    [
        (["--users", "0"], "--users"),
        (["--users", "10000001"], "--users"),
        (["--days", "0"], "--days"),
        (["--days", "3651"], "--days"),
        (["--users", "many"], "--users"),
        (["--seed", "-1"], "--seed"),
        (["--history-days", "366"], "--history-days"),
    ],
)
def test_cli_rejects_bad_arguments(arguments: list[str], mentions: str) -> None:
    result = runner.invoke(app, ["generate", *arguments])

    assert result.exit_code == 2
    assert f"Invalid value for '{mentions}'" in result.output


def test_cli_reports_an_unreachable_database(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["generate", "--users", "5", "--days", "1", "--events-out", str(tmp_path / "e.jsonl"),
              "--database-url", "postgresql://shop:s3cret@127.0.0.1:1/shop"],
    )  # fmt: skip

    assert result.exit_code == 1
    assert "cannot reach the database at postgresql://shop:***@127.0.0.1:1/shop" in " ".join(
        result.output.split()
    )
    assert "s3cret" not in result.output
    assert not (tmp_path / "e.jsonl").exists()


def test_script_wrapper_runs_the_same_command() -> None:
    completed = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "generate_data.py"), "--days", "0"],
        capture_output=True,
        text=True,
        check=False,
    )

    assert completed.returncode == 2
    assert "Invalid value for '--days'" in completed.stderr
