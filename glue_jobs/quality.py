"""The data-quality gate every batch job passes before it publishes its outputs.

A job writes its outputs to a staging path, hands the staged tables to `QualityGate.check`,
and promotes them only if no critical rule failed; otherwise it discards the staging path and
the previous outputs stay as they were. The rules come from contracts/quality/<job>.yaml (the
same ones rendered to DQDL for Glue Data Quality); every result goes to the results table
and to the metrics, pass or fail.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import field_validator
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as sf

from contracts.quality import (
    CRITICAL,
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
from contracts.quality.dqdl import dqdl_rule
from glue_jobs.job_runtime import IsoDatetime, JobArguments
from glue_jobs.parallel import map_concurrently
from glue_jobs.quality_metrics import MetricsPublisher, NoMetrics, metrics_publisher
from glue_jobs.rule_results import RuleResult

RESULTS_SCHEMA = (
    "job string, run_id string, table_name string, rule string, check_type string, "
    "severity string, passed boolean, observed string, reference_time timestamp, "
    "evaluated_at timestamp"
)
RESULTS_PARTITIONS = ("job", "run_id")
_COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    "=": operator.eq,
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
}


@dataclass(frozen=True)
class References:
    """Datasets rules compare against, by alias: frames, or row counts known without one."""

    tables: Mapping[str, DataFrame]
    counts: Mapping[str, int]


Figure = Column | DataFrame | int | None


def _figure(rule: Rule, frame: DataFrame, references: References, now: datetime) -> Figure:
    """How a rule's figure is measured: an aggregate in the table's scan (a Column), the
    rows of a frame to count (a DataFrame), a number known already, or nothing."""
    match rule:
        case NotNull(column=column):
            return sf.count(sf.when(sf.col(column).isNull(), 1))
        case AcceptedValues(column=column, values=values):
            return sf.count(sf.when(sf.col(column).isNull() | ~sf.col(column).isin(*values), 1))
        case Freshness(column=column, max_age_hours=hours):
            return sf.count(sf.when(sf.col(column) >= sf.lit(now - timedelta(hours=hours)), 1))
        case PrimaryKey(columns=columns):
            # Keys held by more than one row, or with a part missing (all such rows are one
            # group). A grouping, not a distinct count, so it spills instead of running out
            # of memory on large tables.
            incomplete = sf.lit(False)
            for column in columns:
                incomplete = incomplete | sf.col(column).isNull()
            return frame.groupBy(*columns).count().filter(incomplete | (sf.col("count") > 1))
        case Referential(columns=columns, reference=alias, reference_columns=targets):
            renamed = zip(targets, columns, strict=True)
            known = references.tables[alias].select(
                *[sf.col(target).alias(column) for target, column in renamed]
            )
            return frame.select(*columns).join(known.distinct(), list(columns), "left_anti")
        case RowCountMatch(reference=alias):
            if alias in references.counts:
                return references.counts[alias]
            return references.tables[alias]
    return None


def _outcome(rule: Rule, rows: int, figure: Any, now: datetime) -> tuple[bool, str]:
    match rule:
        case RowCount(op=op, value=value):
            return _COMPARISONS[op](rows, value), f"{rows} rows"
        case RowCountMatch(op=op, value=value):
            ratio = rows / figure if figure else (1.0 if rows == 0 else float("inf"))
            return _COMPARISONS[op](ratio, value), f"ratio {ratio:.4f} ({rows} of {figure})"
        case PrimaryKey():
            return figure == 0, f"{figure} keys repeated or incomplete"
        case NotNull():
            return figure == 0, f"{figure} nulls"
        case AcceptedValues():
            return figure == 0, f"{figure} rows outside the accepted values"
        case Referential(reference=alias):
            return figure == 0, f"{figure} rows without a match in {alias}"
        case Freshness(max_age_hours=hours):
            since = (now - timedelta(hours=hours)).isoformat()
            return figure > 0, f"{figure} rows at or after {since}"
    raise TypeError(f"not a quality rule: {rule!r}")


def _evaluate_table(
    job: str,
    table: str,
    frame: DataFrame,
    rules: Sequence[Rule],
    references: References,
    reference_time: datetime,
) -> tuple[int, list[RuleResult]]:
    figures = [_figure(rule, frame, references, reference_time) for rule in rules]
    scan = [
        figure.alias(f"rule_{index}")
        for index, figure in enumerate(figures)
        if isinstance(figure, Column)
    ]
    scanned = frame.agg(sf.count(sf.lit(1)).alias("rows"), *scan).first()
    results = []
    for index, (rule, figure) in enumerate(zip(rules, figures, strict=True)):
        if isinstance(figure, Column):
            figure = scanned[f"rule_{index}"]
        elif isinstance(figure, DataFrame):
            figure = figure.count()
        passed, observed = _outcome(rule, scanned["rows"], figure, reference_time)
        results.append(
            RuleResult(job, table, dqdl_rule(rule), rule.check, rule.severity, passed, observed)
        )
    return scanned["rows"], results


def evaluate(
    job: str,
    tables: Mapping[str, tuple[DataFrame, Sequence[Rule]]],
    references: References,
    reference_time: datetime,
) -> tuple[dict[str, int], list[RuleResult]]:
    """Each table's row count and every rule's result (tables and rules in order).

    Per table, one aggregation measures counts, nulls, accepted values and freshness; the key
    and each reference join (and each reference count not known already) are one more count.
    Tables are measured side by side (glue_jobs.parallel).
    """
    measured = map_concurrently(
        lambda item: _evaluate_table(job, item[0], *item[1], references, reference_time),
        tables.items(),
    )
    rows = {table: count for table, (count, _) in zip(tables, measured, strict=True)}
    return rows, [result for _, results in measured for result in results]


@dataclass(frozen=True)
class GateReport:
    """What a passed gate saw: each checked table's row count, and every rule's result."""

    rows: dict[str, int]
    results: list[RuleResult]


class QualityGateError(RuntimeError):
    """A critical rule failed: the job stops and publishes nothing."""

    def __init__(self, job: str, failures: Sequence[RuleResult]) -> None:
        listed = "\n".join(f"  {item.table}: {item.rule} ({item.observed})" for item in failures)
        super().__init__(
            f"{job}: {len(failures)} critical data-quality rule(s) failed; "
            f"previous outputs are untouched:\n{listed}"
        )
        self.failures = tuple(failures)


@dataclass(frozen=True)
class QualityGate:
    """Checks one job's staged outputs against its rules, records the results and decides.

    `reference_time` is "now" for freshness (the run's time on AWS; the data's as-of time when
    replaying history). Results go to `results_path` (a Parquet table partitioned by job and
    run, replaced per partition so a re-run of the same run id does not duplicate them) and
    to `metrics`.
    """

    job: str
    run_id: str
    reference_time: datetime
    results_path: str | None = None
    metrics: MetricsPublisher = field(default_factory=NoMetrics)

    def check(
        self,
        outputs: Mapping[str, DataFrame],
        references: Mapping[str, DataFrame] | None = None,
        reference_counts: Mapping[str, int] | None = None,
    ) -> GateReport:
        """Evaluate every rule of the job; raise QualityGateError on a critical failure."""
        rules = load_job_rules(self.job).tables
        unchecked = sorted(set(rules) - set(outputs))
        if unchecked:
            raise ValueError(f"{self.job}: no output frame for the rules of {unchecked}")
        known = References(
            tables={**(references or {}), **outputs}, counts=dict(reference_counts or {})
        )
        rows, results = evaluate(
            self.job,
            {table: (outputs[table], table_rules) for table, table_rules in rules.items()},
            known,
            self.reference_time,
        )
        self._record(next(iter(outputs.values())), results)
        failures = [item for item in results if not item.passed and item.severity == CRITICAL]
        if failures:
            raise QualityGateError(self.job, failures)
        return GateReport(rows=rows, results=results)

    def _record(self, any_frame: DataFrame, results: Sequence[RuleResult]) -> None:
        evaluated_at = datetime.now(UTC)
        self.metrics.publish(results, evaluated_at)
        if self.results_path is None:
            return
        rows = [
            (
                self.job, self.run_id, item.table, item.rule, item.check, item.severity,
                item.passed, item.observed, self.reference_time, evaluated_at,
            )
            for item in results
        ]  # fmt: skip
        (
            any_frame.sparkSession.createDataFrame(rows, RESULTS_SCHEMA)
            .coalesce(1)
            .write.mode("overwrite")
            .option("partitionOverwriteMode", "dynamic")
            .partitionBy(*RESULTS_PARTITIONS)
            .parquet(self.results_path)
        )


class GateArguments(JobArguments):
    """Arguments every gated job accepts (all optional): the run id the results are filed
    under, "now" for freshness (ISO 8601 with zone), where results and metrics go."""

    run_id: str | None = None
    reference_time: IsoDatetime | None = None
    quality_results_uri: str | None = None
    metrics_namespace: str | None = None
    metrics_file: str | None = None

    @field_validator("reference_time")
    @classmethod
    def _has_time_zone(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("needs a time zone, e.g. 2026-10-01T00:00:00+00:00")
        return value


def gate_from_arguments(job: str, args: GateArguments) -> QualityGate:
    """The gate a job entry script builds from its GateArguments (defaults: a run id and the
    reference time from the clock, no results table, no metrics)."""
    now = datetime.now(UTC)
    return QualityGate(
        job=job,
        run_id=args.run_id or now.strftime("%Y%m%dT%H%M%SZ"),
        reference_time=args.reference_time or now,
        results_path=args.quality_results_uri,
        metrics=metrics_publisher(args.metrics_namespace, args.metrics_file),
    )
