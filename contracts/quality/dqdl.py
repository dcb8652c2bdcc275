"""Render the quality rules as Glue Data Quality DQDL rulesets, one per output table.

The text of each rendered rule is also the rule's identity in the results table and the
metrics, so a result on AWS and the same result on one machine carry the same name.

Reference datasets (RowCountMatch, ReferentialIntegrity) are named by the aliases the rules
use; the job that evaluates a ruleset registers its additional data sources under them.
Freshness is "the newest value is recent enough", which DataFreshness cannot say (it requires
every row to be recent), so it is a CustomSql count of recent rows on the primary dataset.
"""

from __future__ import annotations

from collections.abc import Sequence

from contracts.quality import (
    AcceptedValues,
    Freshness,
    NotNull,
    PrimaryKey,
    Referential,
    RowCount,
    RowCountMatch,
    Rule,
    load_job_rules,
)


def _quoted(name: str) -> str:
    return f'"{name}"'


def _number(value: float) -> str:
    return repr(float(value)) if isinstance(value, float) else str(value)


def dqdl_rule(rule: Rule) -> str:
    """One DQDL rule."""
    match rule:
        case RowCount(op=op, value=value):
            return f"RowCount {op} {value}"
        case RowCountMatch(reference=reference, op=op, value=value):
            return f"RowCountMatch {_quoted(reference)} {op} {_number(value)}"
        case PrimaryKey(columns=columns):
            return "IsPrimaryKey " + " ".join(_quoted(column) for column in columns)
        case NotNull(column=column):
            return f"IsComplete {_quoted(column)}"
        case AcceptedValues(column=column, values=values):
            listed = ", ".join(_quoted(value) for value in values)
            return f"ColumnValues {_quoted(column)} in [{listed}]"
        case Referential(columns=columns, reference=reference, reference_columns=targets):
            primary = _quoted(",".join(columns))
            target = targets[0] if len(targets) == 1 else "{" + ",".join(targets) + "}"
            return f"ReferentialIntegrity {primary} {_quoted(f'{reference}.{target}')} = 1.0"
        case Freshness(column=column, max_age_hours=hours):
            recent = (
                f"SELECT COUNT(*) FROM primary WHERE {column} >= "  # noqa: S608 the column comes from the project's own rule files
                f"current_timestamp() - INTERVAL {hours} HOURS"
            )
            return f"CustomSql {_quoted(recent)} > 0"
    raise TypeError(f"not a quality rule: {rule!r}")


def dqdl_ruleset(rules: Sequence[Rule]) -> str:
    """A whole DQDL document: `Rules = [ ... ]`, one rule per line."""
    body = ",\n".join(f"    {dqdl_rule(rule)}" for rule in rules)
    return f"Rules = [\n{body}\n]"


def job_rulesets(job: str) -> dict[str, str]:
    """The DQDL ruleset of each output table of `job`."""
    return {table: dqdl_ruleset(rules) for table, rules in load_job_rules(job).tables.items()}
