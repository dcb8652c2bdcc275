"""Riding out a PostgreSQL restart: reopen the connection with bounded backoff and say so once
when it is lost and once when it is back (not once per attempt)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import psycopg

from local_platform.errors import one_line, redact_url

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Backoff:
    """Delays that double from `first_s` up to `max_s`, then stay there: a restart of a few
    seconds is caught quickly, and a long outage costs one attempt every `max_s`."""

    first_s: float = 0.2
    max_s: float = 5.0

    def delays(self) -> Iterator[float]:
        delay = self.first_s
        while True:
            yield delay
            delay = min(delay * 2, self.max_s)


def connection_lost(conn: psycopg.Connection) -> bool:
    """True when an OperationalError just raised on `conn` took the connection with it (server
    shut down or restarted, network gone), as opposed to an error a new connection would meet
    again."""
    return conn.broken or conn.closed


def reconnect(
    url: str,
    error: BaseException,
    backoff: Backoff = Backoff(),
    sleep: Callable[[float], None] = time.sleep,
) -> psycopg.Connection:
    """A new autocommit connection to `url`, tried until the server answers."""
    logger.warning(
        "database connection lost (%s); reconnecting to %s with backoff up to %g s",
        one_line(error),
        redact_url(url),
        backoff.max_s,
    )
    lost_at = time.monotonic()
    delays = backoff.delays()
    attempts = 0
    while True:
        sleep(next(delays))
        attempts += 1
        try:
            conn = psycopg.connect(url, autocommit=True, connect_timeout=max(2, int(backoff.max_s)))
        except psycopg.OperationalError:
            continue
        logger.warning(
            "database connection restored after %.1f s (%d attempts)",
            time.monotonic() - lost_at,
            attempts,
        )
        return conn
