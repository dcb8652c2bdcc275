"""Turning low-level failures into messages a user can act on."""

from __future__ import annotations

import re

import psycopg


def database_unreachable(error: BaseException) -> bool:
    """True when the error means we never got a working connection (not a query error)."""
    return isinstance(error, psycopg.OperationalError) and not isinstance(
        error, psycopg.errors.QueryCanceled
    )


def redact_url(url: str) -> str:
    """Hide the password in a connection URL before printing it."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)
