"""Turning low-level failures into messages a user can act on."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg.conninfo import conninfo_to_dict

from local_platform.console import fail


def database_unreachable(error: BaseException) -> bool:
    """True when the error means we never got a working connection (not a query error)."""
    return isinstance(error, psycopg.OperationalError) and not isinstance(
        error, psycopg.errors.QueryCanceled
    )


def redact_url(url: str) -> str:
    """Hide the password in a connection URL before printing it."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)


def one_line(error: BaseException) -> str:
    """The error's message on one line (libpq spreads its messages over several)."""
    return " ".join(str(error).split())


def unparsable_database_url(url: str) -> str | None:
    """Why libpq cannot parse `url` as a connection string, or None when it can."""
    try:
        conninfo_to_dict(url)
    except psycopg.ProgrammingError as error:
        return one_line(error)
    return None


@contextmanager
def exit_when_unreachable(url: str) -> Iterator[None]:
    """Exit with one clear line when the work inside never reached the database at `url`;
    every other error goes on up."""
    try:
        yield
    except Exception as error:
        if database_unreachable(error):
            fail(f"cannot reach the database at {redact_url(url)}: {one_line(error)}")
        raise


def exit_unless_reachable(url: str) -> None:
    """Open and close one connection, so a command that starts slow engines first (Spark)
    fails in a second with one line instead of after them."""
    with exit_when_unreachable(url), psycopg.connect(url):
        pass
