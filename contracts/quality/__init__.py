"""Data-quality rules per batch job, defined once as data (contracts/quality/<job>.yaml).

The same definitions are checked locally on Spark DataFrames (glue_jobs.quality) and rendered
to Glue Data Quality DQDL rulesets (contracts.quality.dqdl), so the gate a job applies on one
machine is the one it applies on AWS. Each rule is `critical` (a failure stops the job before
it publishes anything) or `warning` (recorded and measured, nothing is blocked).

Rule kinds (the YAML `check` field):

- `row_count`: the table's row count compared with `value` (`op`: = >= <= > <).
- `row_count_match`: the row count divided by the row count of the `reference` dataset
  (rows in versus rows out), compared with `value`.
- `primary_key`: the `columns` are never null and unique together.
- `not_null`: the `column` has no nulls (YAML may list several `columns`, one rule each).
- `accepted_values`: every value of `column` is one of `values` (null is not accepted).
- `referential`: every row's `columns` appear among `reference_columns` of `reference`.
- `freshness`: at least one value of `column` is at most `max_age_hours` old.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

RULES_DIR = Path(__file__).resolve().parent
CRITICAL = "critical"
WARNING = "warning"
Severity = Literal["critical", "warning"]
Comparison = Literal["=", ">=", "<=", ">", "<"]


class _Rule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    severity: Severity = CRITICAL


class RowCount(_Rule):
    check: Literal["row_count"]
    op: Comparison
    value: int = Field(ge=0)


class RowCountMatch(_Rule):
    check: Literal["row_count_match"]
    reference: str
    op: Comparison = "="
    value: float = Field(default=1.0, ge=0)


class PrimaryKey(_Rule):
    check: Literal["primary_key"]
    columns: tuple[str, ...] = Field(min_length=1)


class NotNull(_Rule):
    check: Literal["not_null"]
    column: str


class AcceptedValues(_Rule):
    check: Literal["accepted_values"]
    column: str
    values: tuple[str, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _quotable(self) -> AcceptedValues:
        if any('"' in value for value in self.values):
            raise ValueError("accepted values cannot contain double quotes (DQDL strings)")
        return self


class Referential(_Rule):
    check: Literal["referential"]
    columns: tuple[str, ...] = Field(min_length=1)
    reference: str
    reference_columns: tuple[str, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _same_arity(self) -> Referential:
        if len(self.columns) != len(self.reference_columns):
            raise ValueError("columns and reference_columns must have the same length")
        return self


class Freshness(_Rule):
    check: Literal["freshness"]
    column: str
    max_age_hours: int = Field(gt=0)


Rule = Annotated[
    RowCount | RowCountMatch | PrimaryKey | NotNull | AcceptedValues | Referential | Freshness,
    Field(discriminator="check"),
]


class JobRules(BaseModel):
    """The rules of one job: output table name -> its rules, in file order."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    job: str
    tables: dict[str, tuple[Rule, ...]]

    @model_validator(mode="before")
    @classmethod
    def _one_not_null_rule_per_column(cls, data: Any) -> Any:
        """`{check: not_null, columns: [a, b]}` is shorthand for one rule per column."""
        if not isinstance(data, Mapping) or not isinstance(data.get("tables"), Mapping):
            return data
        tables = {
            table: [expanded for rule in rules or [] for expanded in _expand(rule)]
            for table, rules in data["tables"].items()
        }
        return {**data, "tables": tables}


def _expand(rule: Any) -> list[Any]:
    if isinstance(rule, Mapping) and rule.get("check") == "not_null" and "columns" in rule:
        shared = {key: value for key, value in rule.items() if key != "columns"}
        return [{**shared, "column": column} for column in rule["columns"]]
    return [rule]


@cache
def load_job_rules(job: str) -> JobRules:
    """The rules of `job` from contracts/quality/<job>.yaml (validated; cached, immutable)."""
    path = RULES_DIR / f"{job}.yaml"
    rules = JobRules.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    if rules.job != job:
        raise ValueError(f"{path.name} declares job {rules.job!r}")
    return rules


def rule_jobs() -> list[str]:
    """Every job that has a rules file."""
    return sorted(path.stem for path in RULES_DIR.glob("*.yaml"))
