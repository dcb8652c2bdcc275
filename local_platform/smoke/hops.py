"""Running smoke-test hops in order and reporting them: each hop is a named check that returns
what it saw or raises HopFailed saying what broke; a hop whose prerequisite failed is skipped."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from rich.table import Table

PASSED, FAILED, SKIPPED = "pass", "FAIL", "skip"
Status = Literal["pass", "FAIL", "skip"]
SMOKE_PATH = "/smoke"  # the page path every synthetic event carries, with its tag after it

# Hop names, in the order they run, locally (smoke/local.py) and on AWS (smoke/aws.py).
COLLECTOR = "collector accepts the event"
REALTIME = "event reaches the real-time tables"
BATCH = "batch workflow: last run succeeded"
SCORING = "scoring pipeline: last run succeeded"
WAREHOUSE = "warehouse answers the first query"
DASHBOARDS = "dashboards exist"


class HopFailed(Exception):  # noqa: N818 a hop's outcome, not a programming error
    """The hop's check saw the platform misbehave; the message says what, in one line."""


class HopSkipped(Exception):  # noqa: N818 a hop's outcome, not a programming error
    """The hop does not apply to this platform (e.g. no dashboards); the message says why."""


@dataclass(frozen=True)
class Hop:
    name: str
    check: Callable[[], str]
    needs: str | None = None  # a hop that must pass first, else this one is skipped


@dataclass(frozen=True)
class HopResult:
    name: str
    status: Status
    seconds: float
    detail: str


def run_hops(
    hops: Sequence[Hop],
    clock: Callable[[], float] = time.monotonic,
    on_result: Callable[[HopResult], None] = lambda result: None,
) -> list[HopResult]:
    """Every hop in order, timed; a failing hop does not stop the ones after it."""
    results: dict[str, HopResult] = {}
    for hop in hops:
        prerequisite = results.get(hop.needs) if hop.needs else None
        if prerequisite is not None and prerequisite.status != PASSED:
            result = HopResult(hop.name, SKIPPED, 0.0, f"needs '{hop.needs}', which failed")
        else:
            started = clock()
            try:
                status, detail = PASSED, hop.check()
            except HopFailed as failure:
                status, detail = FAILED, str(failure)
            except HopSkipped as reason:
                status, detail = SKIPPED, str(reason)
            result = HopResult(hop.name, status, clock() - started, detail)
        results[hop.name] = result
        on_result(result)
    return list(results.values())


def first_failure(results: Sequence[HopResult]) -> HopResult | None:
    return next((r for r in results if r.status == FAILED), None)


def results_table(results: Sequence[HopResult], title: str) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("hop")
    table.add_column("result")
    table.add_column("seconds", justify="right")
    table.add_column("what it saw", overflow="fold")
    colour = {PASSED: "green", FAILED: "bold red", SKIPPED: "yellow"}
    for result in results:
        table.add_row(
            result.name,
            f"[{colour[result.status]}]{result.status}[/]",
            f"{result.seconds:.1f}",
            result.detail,
        )
    return table


def results_markdown(results: Sequence[HopResult], title: str) -> str:
    """The same table for a GitHub job summary."""
    lines = [f"## {title}", "", "| hop | result | seconds | what it saw |", "|---|---|---:|---|"]
    for result in results:
        detail = result.detail.replace("|", "\\|")
        lines.append(f"| {result.name} | {result.status} | {result.seconds:.1f} | {detail} |")
    failed = first_failure(results)
    lines += ["", f"**Failed at hop `{failed.name}`.**" if failed else "All hops passed.", ""]
    return "\n".join(lines)


@dataclass(frozen=True)
class SmokeEvent:
    """One page view nobody else could have sent: fresh event, session and device ids, and
    the tag in its page path (`/smoke/<tag>`), so its rows can be found and removed."""

    tag: str
    event: dict[str, Any]

    @property
    def event_id(self) -> str:
        return self.event["event_id"]

    @property
    def session_id(self) -> str:
        return self.event["session_id"]

    @property
    def occurred_at(self) -> datetime:
        return datetime.fromisoformat(self.event["occurred_at"])


def smoke_event(now: datetime | None = None, tag: str | None = None) -> SmokeEvent:
    now = (now or datetime.now(UTC)).astimezone(UTC)
    tag = tag or f"{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    event = {
        "event_id": str(uuid.uuid4()),
        "event_type": "page_viewed",
        "schema_version": "1.0",
        "occurred_at": now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "user_id": None,
        "anonymous_id": str(uuid.uuid4()),
        "session_id": str(uuid.uuid4()),
        "context": {
            "channel": "web",
            "device": {"type": "desktop", "os": "smoke-test", "browser": None},
            "page": {"path": f"{SMOKE_PATH}/{tag}", "title": "ecom smoke"},
            "referrer": None,
            "utm": None,
            "traffic_source": "direct",
        },
        "properties": {"page_type": "other", "path": f"{SMOKE_PATH}/{tag}"},
    }
    return SmokeEvent(tag, event)


def post_event(collector_url: str, event: SmokeEvent, timeout_s: float = 15.0) -> str:
    """POST the event to the collector; what it answered, or HopFailed naming the refusal."""
    request = urllib.request.Request(  # noqa: S310 the collector URL from config or outputs
        f"{collector_url.rstrip('/')}/v1/events",
        data=json.dumps(event.event).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310
            status, body = response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        raise HopFailed(f"the collector answered {error.code}: {error.read()[:200]!r}") from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise HopFailed(f"the collector at {collector_url} is unreachable: {reason}") from None
    results = body.get("results") or [{}]
    if status != 200 or results[0].get("status") != "accepted":
        raise HopFailed(f"the collector answered {status} but did not accept the event: {body}")
    return f"200, event {event.event_id} accepted"


def poll(
    probe: Callable[[], Any],
    timeout_s: float,
    what: str,
    interval_s: float = 0.5,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Any:
    """probe() until it returns something truthy; HopFailed after timeout_s."""
    deadline = clock() + timeout_s
    while True:
        found = probe()
        if found:
            return found
        if clock() >= deadline:
            raise HopFailed(f"{what} within {timeout_s:g} s")
        sleep(interval_s)
