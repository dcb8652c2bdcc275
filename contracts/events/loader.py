"""Load the event contract's JSON Schema files (contracts/events/schemas).

The files are the single source of truth: the validator compiles them, the docs are rendered
from them, and the list of event types and the schema version are read from them here rather
than repeated in code.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"
ENVELOPE = "envelope"
_SUFFIX = ".schema.json"


class ContractError(RuntimeError):
    """The schema files contradict each other; a packaging or editing mistake, never bad data."""


@cache
def load_schemas() -> dict[str, dict[str, Any]]:
    """Every schema file by name (file name without .schema.json); shared, so never mutate."""
    schemas = {
        path.name.removesuffix(_SUFFIX): json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(SCHEMA_DIR.glob(f"*{_SUFFIX}"))
    }
    if ENVELOPE not in schemas:
        raise ContractError(f"{SCHEMA_DIR / (ENVELOPE + _SUFFIX)} is missing")
    declared = set(_declared_event_types(schemas[ENVELOPE]))
    present = set(schemas) - {ENVELOPE}
    if declared != present:
        raise ContractError(
            "event types in envelope.schema.json and the schema files differ: "
            f"without a file {sorted(declared - present)}, "
            f"not in the envelope {sorted(present - declared)}"
        )
    return schemas


def _declared_event_types(envelope: dict[str, Any]) -> list[str]:
    return envelope["properties"]["event_type"]["enum"]


def event_types() -> tuple[str, ...]:
    """Event type names in the order the envelope declares them."""
    return tuple(_declared_event_types(load_schemas()[ENVELOPE]))


def schema_version() -> str:
    """The version producers write: the envelope's default for schema_version."""
    return load_schemas()[ENVELOPE]["properties"]["schema_version"]["default"]
