"""Events per second through the event validator, on one core; prints, asserts nothing.

The stream processor's budget is 10,000 events/s on one core including validation, so
validation has to cost a small fraction of 100 µs per event. Run:
`python benchmarks/bench_validator.py`.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Sequence
from typing import Any

import orjson

from contracts.events import EVENT_TYPES, parse_event, validate_event
from contracts.events.loader import load_schemas

SECONDS_PER_CASE = 2.0


def events_per_second(check: Callable[[Any], object], inputs: Sequence[Any]) -> float:
    """Calls per second of check over inputs, repeated for SECONDS_PER_CASE."""
    calls = 0
    started = time.perf_counter()
    while (elapsed := time.perf_counter() - started) < SECONDS_PER_CASE:
        for item in inputs:
            check(item)
        calls += len(inputs)
    return calls / elapsed


def broken(event: dict[str, Any]) -> dict[str, Any]:
    """The event with a missing field, a bad id and an unexpected property (the slow path)."""
    copied = copy.deepcopy(event)
    del copied["occurred_at"]
    copied["session_id"] = "not-a-uuid"
    copied["properties"]["unexpected"] = True
    return copied


def main() -> None:
    examples = [load_schemas()[name]["examples"][0] for name in EVENT_TYPES]
    serialized = [orjson.dumps(event) for event in examples]
    cases = [
        ("validate_event, valid examples", validate_event, examples),
        ("parse_event, valid examples as bytes", parse_event, serialized),
        ("validate_event, invalid events", validate_event, [broken(e) for e in examples]),
    ]
    for label, check, inputs in cases:
        rate = events_per_second(check, inputs)
        print(f"{label:<40} {rate:>12,.0f} events/s  ({1e6 / rate:.1f} µs/event)")


if __name__ == "__main__":
    main()
