"""Every user-facing `ecom` command turns bad input into one clear line and a non-zero exit:
an unparsable database URL, a host nobody listens on, a file that is not there.

The cases are checked against the commands local_platform/cli.py registers, so a new command
without a case here fails the walk."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner, Result

from local_platform.cli import app

pytestmark = pytest.mark.integration
runner = CliRunner()

MALFORMED_URL = "notaurl"
MISSING_FILE = "no-such-file.csv"  # relative and short, so a usage box never wraps it
# Commands that take no input a user could get wrong (they start or stop a local server).
NO_INPUT = {"db up", "db down", "kafka up", "kafka down"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _commands() -> set[str]:
    """Every leaf command of `ecom`, as 'group command'."""

    def walk(command: object, prefix: str) -> set[str]:
        if isinstance(command, typer.core.TyperGroup):
            return {
                name
                for sub_name, sub in command.commands.items()
                for name in walk(sub, f"{prefix} {sub_name}".strip())
            }
        return {prefix}

    return walk(typer.main.get_command(app), "")


def _message_lines(output: str) -> list[str]:
    """The lines that carry the error: click's usage errors sit in a box; ours start with
    'error:' and run to the end of the output (progress printed before it is not counted,
    log lines of the clients are)."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    boxed = [line.strip("│ ") for line in lines if line.startswith("│")]
    if boxed:
        return boxed
    logged = [line for line in lines if line.startswith(("WARNING ", "ERROR "))]
    starts = [i for i, line in enumerate(lines) if line.startswith("error:")]
    return logged + (lines[starts[0] :] if starts else [])


def _assert_one_clear_line(result: Result, mentions: str) -> None:
    assert result.exit_code not in (0, None), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    messages = _message_lines(result.output)
    assert len(messages) == 1, result.output
    assert mentions in messages[0], result.output


@pytest.fixture(scope="module")
def dead_url() -> str:
    return f"postgresql://shop:s3cret@127.0.0.1:{_free_port()}/shop"


@pytest.fixture(scope="module")
def dead_broker() -> str:
    return f"127.0.0.1:{_free_port()}"


@pytest.fixture
def events_file(tmp_path: Path) -> Path:
    path = tmp_path / "events.jsonl"
    path.write_text("")
    return path


def _cases(
    tmp_path: Path, events_file: Path, kafka_bootstrap: str, dead_url: str, dead_broker: str
) -> dict[str, list[tuple[list[str], str]]]:
    """Per command: (arguments, what the one line must mention)."""
    db_commands = {
        "db migrate": ["db", "migrate"],
        "generate": ["generate", "--users", "3", "--days", "1", "--events-out",
                     str(tmp_path / "events.jsonl")],
        "demo": ["demo", "--users", "3", "--days", "1", "--workdir", str(tmp_path / "demo")],
        "stream run": ["stream", "run", "--bootstrap-servers", kafka_bootstrap,
                       "--max-events", "1", "--idle-timeout", "1"],
        "batch run": ["batch", "run", "--events", str(events_file),
                      "--lake", str(tmp_path / "lake"),
                      "--warehouse", str(tmp_path / "warehouse.duckdb")],
    }  # fmt: skip
    cases: dict[str, list[tuple[list[str], str]]] = {
        name: [
            ([*args, "--database-url", MALFORMED_URL], "not a PostgreSQL URL"),
            ([*args, "--database-url", dead_url], "cannot reach the database"),
        ]
        for name, args in db_commands.items()
    }
    cases["stream run"].append(
        (["stream", "run", "--bootstrap-servers", dead_broker], "Kafka is not available")
    )
    cases["batch run"].append(
        (
            ["batch", "run", "--database-url", dead_url, "--events", MISSING_FILE],
            f"no clickstream at {MISSING_FILE}",
        )
    )
    cases["simulate"] = [
        (["simulate", "--bootstrap-servers", dead_broker, "--duration", "1"], "cannot reach Kafka")
    ]
    for name in ("collector", "api"):  # one server, two names
        serve = [name, "serve", "--port", "0", "--bootstrap-servers"]
        cases[f"{name} serve"] = [
            ([*serve, dead_broker], "cannot reach Kafka"),
            ([*serve, kafka_bootstrap, "--database-url", MALFORMED_URL], "not a PostgreSQL URL"),
            ([*serve, kafka_bootstrap, "--database-url", dead_url], "cannot reach the database"),
        ]
    cases["kafka topics"] = [
        (["kafka", "topics", "--bootstrap-servers", dead_broker], "could not create topics")
    ]
    cases["ml fit-btyd"] = [
        (
            ["ml", "fit-btyd", "--transactions", MISSING_FILE, "--calibration-end", "2020-01-01"],
            "does not exist",
        )
    ]
    lake = ["--lake", str(tmp_path / "no-lake")]  # no extract yet, an empty registry beside it
    cases["ml train"] = [(["ml", "train", *lake], "no Parquet files under")]
    cases["ml run"] = [(["ml", "run", *lake], "no Parquet files under")]
    cases["ml approve"] = [
        (["ml", "approve", *lake], "has no version with status PendingManualApproval")
    ]
    cases["ml score"] = [
        (["ml", "score", *lake, "--database-url", MALFORMED_URL], "not a PostgreSQL URL"),
        (["ml", "score", *lake, "--database-url", dead_url], "has no version with status Approved"),
    ]
    dashboards_build = ["dashboards", "build", "--out", str(tmp_path / "site"),
                        "--warehouse", str(tmp_path / "warehouse.duckdb")]  # fmt: skip
    cases["dashboards build"] = [
        ([*dashboards_build, "--database-url", MALFORMED_URL], "not a PostgreSQL URL"),
        ([*dashboards_build, "--database-url", dead_url], "cannot reach the database"),
    ]
    cases["dashboards serve"] = [
        (["dashboards", "serve", "--out", str(tmp_path / "no-site")], "no dashboards site in")
    ]
    cases["smoke"] = [
        (["smoke", "--local", "--database-url", MALFORMED_URL], "not a PostgreSQL URL"),
        (["smoke", "--local", "--database-url", dead_url], "cannot reach the database"),
        (["smoke", "--env", "qa"], "unknown environment 'qa'"),
        (["smoke", "--env", "staging", "--region", "moon-1"], "unknown AWS region 'moon-1'"),
    ]
    return cases


@pytest.fixture
def cases(
    tmp_path: Path, events_file: Path, kafka_bootstrap: str, dead_url: str, dead_broker: str
) -> dict[str, list[tuple[list[str], str]]]:
    return _cases(tmp_path, events_file, kafka_bootstrap, dead_url, dead_broker)


def test_every_command_with_input_has_bad_input_cases(
    cases: dict[str, list[tuple[list[str], str]]],
) -> None:
    assert set(cases) | NO_INPUT == _commands()


def test_each_bad_input_is_one_clear_line(
    cases: dict[str, list[tuple[list[str], str]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    failures = []
    for command_cases in cases.values():
        for args, mentions in command_cases:
            result = runner.invoke(app, args)
            try:
                _assert_one_clear_line(result, mentions)
                assert "s3cret" not in result.output
            except AssertionError as failure:
                failures.append(f"ecom {' '.join(args)}: {failure}")
    assert not failures, "\n\n".join(failures)


def test_malformed_database_url_from_the_environment_is_one_clear_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABASE_URL", MALFORMED_URL)

    result = runner.invoke(app, ["db", "migrate"])

    _assert_one_clear_line(result, "DATABASE_URL is not a PostgreSQL URL")
