"""The MSK event-source-mapping payload: records grouped by "topic-partition", base64 encoded.

Lambda receives this shape from MSK; the local consumer loop builds the same shape from what
it polls, so both run the one handler path.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SourceRecord:
    """One Kafka record as read: where it came from and its raw bytes."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    key: bytes | None
    value: bytes | None


def decode_msk_event(event: Mapping[str, Any]) -> list[SourceRecord]:
    """Every record of an MSK trigger payload, in partition order, then offset order."""
    records = []
    for group in (event.get("records") or {}).values():
        for record in group:
            records.append(
                SourceRecord(
                    topic=record["topic"],
                    partition=int(record["partition"]),
                    offset=int(record["offset"]),
                    timestamp_ms=int(record.get("timestamp") or 0),
                    key=_decode(record.get("key")),
                    value=_decode(record.get("value")),
                )
            )
    return records


def encode_msk_event(
    records: Iterable[SourceRecord], event_source_arn: str, bootstrap_servers: str
) -> dict[str, Any]:
    """The payload MSK would hand Lambda for these records."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        groups.setdefault(f"{record.topic}-{record.partition}", []).append(
            {
                "topic": record.topic,
                "partition": record.partition,
                "offset": record.offset,
                "timestamp": record.timestamp_ms,
                "timestampType": "CREATE_TIME",
                "key": _encode(record.key),
                "value": _encode(record.value),
                "headers": [],
            }
        )
    return {
        "eventSource": "aws:kafka",
        "eventSourceArn": event_source_arn,
        "bootstrapServers": bootstrap_servers,
        "records": groups,
    }


def _decode(text: str | None) -> bytes | None:
    return None if text is None else base64.b64decode(text)


def _encode(raw: bytes | None) -> str | None:
    return None if raw is None else base64.b64encode(raw).decode("ascii")
