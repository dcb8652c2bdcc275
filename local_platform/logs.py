"""The log lines of `ecom` commands, on stderr: our own warnings (a lost database, a failed
handler) and the Kafka clients'. kafka-python retries a dead broker several times a second,
so its records pass a RepeatFilter (librdkafka's logger carries its own)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from lambdas.shared.kafka_producer import RepeatFilter

KAFKA_PYTHON_LOGGER = "kafka"
# Loggers shown as they come: ours, and librdkafka's (already rate limited at its logger).
PLAIN_LOGGERS = ("local_platform", "lambdas", "librdkafka")
_FORMAT = "%(levelname)s %(name)s: %(message)s"
_on_stderr: list[tuple[str, logging.Handler]] = []


class _CurrentStderr(logging.StreamHandler):
    """Writes to whatever sys.stderr is when a record comes (test runners swap it)."""

    @property  # type: ignore[override]
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


def configure_logging(stream: TextIO | None = None) -> list[tuple[str, logging.Handler]]:
    """Send warnings and errors of those loggers to `stream`, else stderr (once, however
    often a command runs in one process); returns what was attached where."""
    if stream is None and _on_stderr:
        return _on_stderr
    attached: list[tuple[str, logging.Handler]] = []
    for name in (KAFKA_PYTHON_LOGGER, *PLAIN_LOGGERS):
        handler = _CurrentStderr() if stream is None else logging.StreamHandler(stream)
        handler.setLevel(logging.WARNING)
        handler.setFormatter(logging.Formatter(_FORMAT))
        if name == KAFKA_PYTHON_LOGGER:
            handler.addFilter(RepeatFilter())
        logging.getLogger(name).addHandler(handler)
        attached.append((name, handler))
    if stream is None:
        _on_stderr.extend(attached)
    return attached


@contextmanager
def kafka_python_quiet() -> Iterator[None]:
    """Hold back kafka-python's logs for a one-shot call whose failure the command reports
    itself in one line (an admin client probing a broker that is not there)."""
    logger = logging.getLogger(KAFKA_PYTHON_LOGGER)
    previous = logger.level
    logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        logger.setLevel(previous)
