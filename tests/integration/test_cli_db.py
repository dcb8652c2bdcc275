"""`ecom db` against a real server: migrations through the CLI and clear failures."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from contracts.oltp.migrator import applied_versions, discover_migrations
from local_platform.cli import app

pytestmark = pytest.mark.integration
runner = CliRunner()


def test_migrate_applies_then_reports_up_to_date(empty_database: str) -> None:
    first = runner.invoke(app, ["db", "migrate", "--database-url", empty_database])
    second = runner.invoke(app, ["db", "migrate", "--database-url", empty_database])

    assert first.exit_code == 0, first.output
    assert f"Applied {len(discover_migrations())} migration(s)." in first.output
    assert second.exit_code == 0
    assert "up to date" in second.output
    assert applied_versions(empty_database) == [m.version for m in discover_migrations()]


def test_unreachable_database_is_a_clear_error() -> None:
    result = runner.invoke(
        app, ["db", "migrate", "--database-url", "postgresql://shop:s3cret@127.0.0.1:1/shop"]
    )

    assert result.exit_code == 1
    assert "cannot reach the database at postgresql://shop:***@127.0.0.1:1/shop" in result.output
    assert "s3cret" not in result.output
    assert "Traceback" not in result.output


def test_unknown_option_exits_non_zero() -> None:
    result = runner.invoke(app, ["db", "migrate", "--no-such-option"])

    assert result.exit_code == 2
    assert "No such option" in result.output
