"""One rule's outcome: what the quality gate produces and the metrics publishers count, in a
module of its own so neither of the two imports the other for it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RuleResult:
    """The outcome of one rule on one table; `rule` is its DQDL text (its identity)."""

    job: str
    table: str
    rule: str
    check: str
    severity: str
    passed: bool
    observed: str
