"""The smoke test's pieces without services: running and reporting hops, the synthetic event,
the collector call, and the local checks over lake, registry, warehouse and site files laid
out as the local runs leave them (tests/local_run_records.py)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from local_run_records import approve_model, write_quality_results, write_sales_mart, write_scores

from contracts.events import validate_event
from contracts.lake import Lake
from local_platform.local_warehouse import load_local_warehouse
from local_platform.smoke.hops import (
    FAILED,
    PASSED,
    SKIPPED,
    Hop,
    HopFailed,
    HopResult,
    HopSkipped,
    first_failure,
    poll,
    post_event,
    results_markdown,
    run_hops,
    smoke_event,
)
from local_platform.smoke.local import (
    dashboard_site,
    first_query_answers,
    last_batch_run,
    last_scoring_run,
)

JOBS = ("extract_oltp", "curate_events", "build_marts")
GROUP = "ecommerce-dev-churn"


def _at(hour: int) -> datetime:
    return datetime(2026, 12, 1, hour, tzinfo=UTC)


class FakeClock:
    """Each reading is 1.5 s after the previous one."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        self.now += 1.5
        return self.now


def _fail(message: str):
    def check() -> str:
        raise HopFailed(message)

    return check


def test_hops_run_in_order_timed_and_a_failed_prerequisite_skips_its_dependant():
    seen: list[str] = []
    hops = [
        Hop("collector", _fail("answered 503")),
        Hop("realtime", lambda: "counted", needs="collector"),
        Hop("batch", lambda: "run 7 passed"),
        Hop("dashboards", lambda: (_ for _ in ()).throw(HopSkipped("no dashboards stack"))),
    ]
    results = run_hops(hops, clock=FakeClock(), on_result=lambda r: seen.append(r.name))
    assert seen == ["collector", "realtime", "batch", "dashboards"]
    assert results == [
        HopResult("collector", FAILED, 1.5, "answered 503"),
        HopResult("realtime", SKIPPED, 0.0, "needs 'collector', which failed"),
        HopResult("batch", PASSED, 1.5, "run 7 passed"),
        HopResult("dashboards", SKIPPED, 1.5, "no dashboards stack"),
    ]
    assert first_failure(results) == results[0]
    assert first_failure(results[2:]) is None


def test_the_markdown_summary_names_the_failed_hop():
    results = [
        HopResult("collector", PASSED, 0.25, "200, accepted"),
        HopResult("batch", FAILED, 2.0, "run 7 is FAILED | stopped"),
    ]
    assert results_markdown(results, "Smoke test of staging") == (
        "## Smoke test of staging\n\n"
        "| hop | result | seconds | what it saw |\n|---|---|---:|---|\n"
        "| collector | pass | 0.2 | 200, accepted |\n"
        "| batch | FAIL | 2.0 | run 7 is FAILED \\| stopped |\n\n"
        "**Failed at hop `batch`.**\n"
    )
    assert results_markdown(results[:1], "t").endswith("All hops passed.\n")


def test_the_smoke_event_keeps_the_contract_and_is_unique():
    now = datetime(2026, 12, 6, 7, 30, 5, 250000, tzinfo=UTC)
    first, second = smoke_event(now, tag="t1"), smoke_event(now)
    assert validate_event(first.event) == []
    assert validate_event(second.event) == []
    assert first.event["occurred_at"] == "2026-12-06T07:30:05.250Z"
    assert first.occurred_at == now
    assert first.event["context"]["page"]["path"] == "/smoke/t1"
    assert first.event["properties"]["path"] == "/smoke/t1"
    assert second.tag.startswith("20261206T073005-")
    for key in ("event_id", "session_id", "anonymous_id"):
        assert first.event[key] != second.event[key]


def test_poll_returns_the_first_answer_or_fails_after_the_timeout():
    answers = iter([None, [], (3, 41)])
    sleeps: list[float] = []
    found = poll(
        lambda: next(answers), 10, "x", interval_s=2, clock=FakeClock(), sleep=sleeps.append
    )
    assert (found, sleeps) == ((3, 41), [2, 2])
    with pytest.raises(HopFailed, match=r"^nothing came within 4 s$"):
        poll(lambda: None, 4, "nothing came", clock=FakeClock(), sleep=lambda s: None)


class _Collector(BaseHTTPRequestHandler):
    answers: ClassVar[list[tuple[int, dict]]] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        status, body = self.answers.pop(0)
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def fake_collector() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_the_collector_call_says_what_the_collector_answered(fake_collector: str):
    event = smoke_event()
    _Collector.answers[:] = [
        (200, {"results": [{"index": 0, "event_id": event.event_id, "status": "accepted"}]}),
        (503, {"error": "unavailable"}),
        (200, {"results": [{"status": "rejected", "reasons": ["user_id: bad"]}]}),
    ]
    assert post_event(fake_collector, event) == f"200, event {event.event_id} accepted"
    with pytest.raises(HopFailed, match=r"the collector answered 503: .*unavailable"):
        post_event(fake_collector, event)
    with pytest.raises(HopFailed, match=r"answered 200 but did not accept the event: .*rejected"):
        post_event(fake_collector, event)


def test_an_unreachable_collector_is_named():
    with pytest.raises(HopFailed, match=r"the collector at http://127\.0\.0\.1:9 is unreachable"):
        post_event("http://127.0.0.1:9", smoke_event(), timeout_s=2)


@pytest.fixture
def lake(tmp_path: Path) -> Path:
    return tmp_path / "lake"


def _load(lake: Path, tmp_path: Path) -> Path:
    warehouse = tmp_path / "warehouse.duckdb"
    load_local_warehouse(warehouse, Lake.in_folder(str(lake)))
    return warehouse


def test_the_newest_batch_run_decides_even_after_an_older_failure(lake: Path, tmp_path: Path):
    write_quality_results(
        lake, "r1", _at(10), {"extract_oltp": 0, "curate_events": 0, "build_marts": 1}
    )
    write_quality_results(lake, "r2", _at(11), dict.fromkeys(JOBS, 0))
    warehouse = _load(lake, tmp_path)
    assert last_batch_run(lake, warehouse) == (
        "run r2: extract_oltp, curate_events, build_marts passed, warehouse loaded"
    )


@pytest.mark.parametrize(
    ("latest", "message"),
    [
        (
            {"extract_oltp": 0, "curate_events": 0, "build_marts": 2},
            r"^batch run r3: 2 critical rule\(s\) failed in build_marts$",
        ),
        ({"extract_oltp": 0}, r"^batch run r3 stopped before curate_events$"),
        ({"extract_oltp": 1}, r"^batch run r3: 1 critical rule\(s\) failed in extract_oltp$"),
    ],
)
def test_a_failed_newest_batch_run_fails_the_hop(lake: Path, tmp_path: Path, latest, message):
    write_quality_results(lake, "r2", _at(11), dict.fromkeys(JOBS, 0))
    write_quality_results(lake, "r3", _at(12), latest)
    warehouse = _load(lake, tmp_path)
    with pytest.raises(HopFailed, match=message):
        last_batch_run(lake, warehouse)


def test_a_batch_run_that_never_loaded_the_warehouse_fails(lake: Path, tmp_path: Path):
    write_quality_results(lake, "r2", _at(11), dict.fromkeys(JOBS, 0))
    warehouse = _load(lake, tmp_path)  # loaded before r4 ran
    write_quality_results(lake, "r4", _at(13), dict.fromkeys(JOBS, 0))
    with pytest.raises(HopFailed, match=r"^batch run r4 passed its gates but never reached"):
        last_batch_run(lake, warehouse)


def test_no_batch_run_at_all_says_what_to_run(lake: Path, tmp_path: Path):
    with pytest.raises(HopFailed, match=r"no batch run recorded under .*: run `ecom batch run`"):
        last_batch_run(lake, tmp_path / "warehouse.duckdb")


def test_the_newest_scoring_day_is_read(lake: Path, tmp_path: Path):
    approve_model(lake, GROUP, tmp_path)
    write_scores(lake, date(2026, 11, 30), customers=5, version="1")
    write_scores(lake, date(2026, 12, 1), customers=3, version="1")
    assert last_scoring_run(lake, GROUP) == (
        "3 customers scored 2026-12-01 by version 1 (latest approved: 1)"
    )


def test_scoring_without_an_approved_model_or_scores_fails(lake: Path, tmp_path: Path):
    approve_model(lake, GROUP, tmp_path, approve=False)
    with pytest.raises(HopFailed, match=r"no approved model to score with: .* has no version"):
        last_scoring_run(lake, GROUP)
    approve_model(lake, GROUP, tmp_path)
    with pytest.raises(HopFailed, match=r"no scores under .*customer_scores: run `ecom ml score`"):
        last_scoring_run(lake, GROUP)


def test_the_first_query_counts_weeks(lake: Path, tmp_path: Path):
    # Mondays 2 and 9 November: two weeks, the first with two days.
    write_sales_mart(lake, [date(2026, 11, 2), date(2026, 11, 4), date(2026, 11, 10)])
    assert first_query_answers(_load(lake, tmp_path)) == "revenue_by_week: 2 rows"


def test_an_empty_or_missing_warehouse_fails_the_first_query(lake: Path, tmp_path: Path):
    with pytest.raises(HopFailed, match=r"^no warehouse at .*: run `ecom batch run`$"):
        first_query_answers(tmp_path / "none.duckdb")
    with pytest.raises(
        HopFailed, match=r"^revenue_by_week answered with no rows: the marts are empty$"
    ):
        first_query_answers(_load(lake, tmp_path))


def test_the_dashboard_site_must_be_an_html_page(tmp_path: Path):
    index = tmp_path / "dashboards" / "index.html"
    with pytest.raises(HopFailed, match=r"no dashboard site at .*: run `ecom dashboards build`"):
        dashboard_site(index)
    index.parent.mkdir()
    index.write_text("{}")
    with pytest.raises(HopFailed, match=r"is not an HTML page"):
        dashboard_site(index)
    index.write_text("<!doctype html><html><body>7 dashboards</body></html>")
    assert dashboard_site(index).startswith("index.html, 53 characters, built ")
