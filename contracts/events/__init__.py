"""The clickstream and commerce event contract (ecommerce.events.v1) and its validator."""

from contracts.events.loader import event_types, schema_version
from contracts.events.validator import (
    MAX_EVENT_BYTES,
    is_too_large_number,
    number_overflow_reason,
    parse_event,
    validate_decoded,
    validate_event,
)

EVENT_TYPES: tuple[str, ...] = event_types()
SCHEMA_VERSION: str = schema_version()

__all__ = [
    "EVENT_TYPES",
    "MAX_EVENT_BYTES",
    "SCHEMA_VERSION",
    "is_too_large_number",
    "number_overflow_reason",
    "parse_event",
    "validate_decoded",
    "validate_event",
]
