"""A pytest plugin: a run fails when its results do not add up to the tests it collected.

Two tests with one id run as one under pytest-xdist (its controller keys tests by id), so a
run could pass with a test silently dropped. Every test that ran gives one result (its call,
or its setup when that failed or skipped); results are counted by id, so a duplicated id is
caught with or without workers. Under xdist the check runs in the controller, which sees each
worker's collection and every report; a run stopped early (-x, interrupt) is not checked.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import pytest

_MAX_IDS_SHOWN = 3


class ResultCount:
    def __init__(self, config: pytest.Config) -> None:
        self._config = config
        self._collected: list[str] = []
        self._results: set[str] = set()
        self._failure = ""

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self._collected = [item.nodeid for item in session.items]

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: object, ids: Sequence[str]) -> None:
        self._collected = list(ids)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "call" or (report.when == "setup" and not report.passed):
            self._results.add(report.nodeid)

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        config = self._config
        if (
            hasattr(config, "workerinput")  # an xdist worker: its controller checks
            or config.option.collectonly
            or session.shouldstop
            or session.shouldfail
            or exitstatus not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED)
            or len(self._results) == len(self._collected)
        ):
            return
        self._failure = self._mismatch()
        session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if self._failure:
            terminalreporter.write_line(self._failure, red=True, bold=True)

    def _mismatch(self) -> str:
        """One line: how many tests were collected and gave results, and which ids explain it."""
        duplicated = sorted(nodeid for nodeid, n in Counter(self._collected).items() if n > 1)
        missing = sorted(set(self._collected) - self._results)
        detail = []
        if duplicated:
            detail.append(f"ids collected more than once: {_shown(duplicated)}")
        if missing:
            detail.append(f"no result for: {_shown(missing)}")
        return (
            f"result count: {len(self._collected)} tests collected, "
            f"{len(self._results)} results; {'; '.join(detail) or 'ids differ'}"
        )


def _shown(ids: list[str]) -> str:
    more = len(ids) - _MAX_IDS_SHOWN
    return ", ".join(ids[:_MAX_IDS_SHOWN]) + (f" and {more} more" if more > 0 else "")


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(ResultCount(config), "result-count")
