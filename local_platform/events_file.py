"""The generator's clickstream file, read line by line, and the Kafka key each line gets.

Both ways of replaying the file (MSK-shaped batches in process, or produced to a broker)
read it here, so they see the same lines with the same keys.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path

import orjson

from lambdas.shared.kafka_producer import event_key


class EventsFile:
    """The generator's JSON Lines file (gzip when named .gz), read line by line; `position`
    is how far into the file on disk, for a progress bar."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.size = path.stat().st_size
        self.position = 0
        self.lines = 0

    def values(self) -> Iterator[bytes]:
        """Each non-blank line, without its newline."""
        with self.path.open("rb") as raw:
            text = gzip.GzipFile(fileobj=raw) if self.path.name.endswith(".gz") else raw
            for line in text:
                self.position = raw.tell()
                value = line.rstrip(b"\r\n")
                if value.strip():
                    self.lines += 1
                    yield value


def record_key(value: bytes) -> bytes | None:
    """The key the producers give an event (its user, else its anonymous id); None when the
    line is not a JSON event."""
    try:
        return event_key(orjson.loads(value))
    except orjson.JSONDecodeError:
        return None
