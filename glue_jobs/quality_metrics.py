"""Data-quality results as CloudWatch metrics, so alarms watch them like any other signal.

Per job and output table: RulesEvaluated, RulesFailed and CriticalRulesFailed (dimensions Job
and Table). On AWS the publisher calls PutMetricData; on one machine the same data points go
to a JSON Lines file, or nowhere.
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from contracts.lake import QUALITY_METRICS_NAMESPACE
from contracts.quality import CRITICAL
from glue_jobs.rule_results import RuleResult

# PutMetricData accepts up to 1,000 data points per request.
MAX_DATA_POINTS_PER_CALL = 1000

MetricDatum = dict[str, Any]
_APPENDING = threading.Lock()


def metric_data(results: Sequence[RuleResult], timestamp: datetime) -> list[MetricDatum]:
    """Three counts per (job, table), in first-seen order."""
    tables: dict[tuple[str, str], list[RuleResult]] = defaultdict(list)
    for result in results:
        tables[(result.job, result.table)].append(result)
    data = []
    for (job, table), table_results in tables.items():
        failed = [result for result in table_results if not result.passed]
        counts = {
            "RulesEvaluated": len(table_results),
            "RulesFailed": len(failed),
            "CriticalRulesFailed": sum(result.severity == CRITICAL for result in failed),
        }
        data += [
            {
                "MetricName": name,
                "Dimensions": [{"Name": "Job", "Value": job}, {"Name": "Table", "Value": table}],
                "Timestamp": timestamp,
                "Value": float(value),
                "Unit": "Count",
            }
            for name, value in counts.items()
        ]
    return data


class MetricsPublisher(Protocol):
    def publish(self, results: Sequence[RuleResult], timestamp: datetime) -> None: ...


class NoMetrics:
    """Publishes nothing (local runs that do not ask for metrics)."""

    def publish(self, results: Sequence[RuleResult], timestamp: datetime) -> None:
        return None


@dataclass(frozen=True)
class CloudWatchMetrics:
    """PutMetricData through a boto3 CloudWatch client, in as few calls as allowed."""

    client: Any
    namespace: str = QUALITY_METRICS_NAMESPACE
    max_per_call: int = MAX_DATA_POINTS_PER_CALL

    def publish(self, results: Sequence[RuleResult], timestamp: datetime) -> None:
        data = metric_data(results, timestamp)
        for start in range(0, len(data), self.max_per_call):
            self.client.put_metric_data(
                Namespace=self.namespace, MetricData=data[start : start + self.max_per_call]
            )


@dataclass(frozen=True)
class JsonLinesMetrics:
    """Appends each data point as one JSON line (with its namespace) to a local file, a
    job's points in one write: jobs that run side by side publish to the same file."""

    path: Path
    namespace: str = QUALITY_METRICS_NAMESPACE

    def publish(self, results: Sequence[RuleResult], timestamp: datetime) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        records = [
            json.dumps({"Namespace": self.namespace, **datum}, default=datetime.isoformat) + "\n"
            for datum in metric_data(results, timestamp)
        ]
        with _APPENDING, self.path.open("a", encoding="utf-8") as lines:
            lines.write("".join(records))


def metrics_publisher(namespace: str | None, file: str | None) -> MetricsPublisher:
    """CloudWatch when a namespace is configured, else a JSON Lines file when one is named,
    else nothing."""
    if namespace:
        import boto3  # only where metrics go to AWS; local runs need no AWS SDK

        return CloudWatchMetrics(boto3.client("cloudwatch"), namespace)
    if file:
        return JsonLinesMetrics(Path(file))
    return NoMetrics()
