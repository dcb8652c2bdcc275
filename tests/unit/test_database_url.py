"""Which database a command uses: explicit URL, then DATABASE_URL, then the embedded server."""

from __future__ import annotations

import pytest

from local_platform.embedded_postgres import EmbeddedPostgres, resolve_database_url
from local_platform.errors import redact_url


def test_explicit_url_wins_over_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://env@h/db")
    assert resolve_database_url("postgresql://cli@h/db") == "postgresql://cli@h/db"


def test_environment_used_when_no_explicit_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://env@h/db")
    assert resolve_database_url(None) == "postgresql://env@h/db"


def test_embedded_url_is_loopback_only(tmp_path) -> None:
    server = EmbeddedPostgres(home=tmp_path)
    assert server.url(port=5555) == "postgresql://postgres@127.0.0.1:5555/ecommerce"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://u:pw@h:5432/d", "postgresql://u:***@h:5432/d"),
        ("postgresql://u@h/d", "postgresql://u@h/d"),
    ],
)
def test_redact_url_hides_passwords(url: str, shown: str) -> None:
    assert redact_url(url) == shown
