"""Quality results as metrics: three counts per job and table, sent with PutMetricData (checked
with botocore's Stubber, no AWS) or written as JSON lines locally."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import boto3
from botocore.stub import Stubber

from contracts.lake import QUALITY_METRICS_NAMESPACE
from glue_jobs.quality_metrics import (
    CloudWatchMetrics,
    JsonLinesMetrics,
    NoMetrics,
    metric_data,
    metrics_publisher,
)
from glue_jobs.rule_results import RuleResult

AT = datetime(2026, 10, 1, 6, 0, tzinfo=UTC)
RESULTS = [
    RuleResult("build_marts", "mart_sales_daily", "RowCount > 0", "row_count", "critical",
               True, ""),
    RuleResult("build_marts", "mart_sales_daily", 'IsComplete "units"', "not_null", "critical",
               False, "2 nulls"),
    RuleResult("build_marts", "mart_sales_daily", 'IsComplete "aov"', "not_null", "warning",
               False, "1 nulls"),
    RuleResult("build_marts", "customer_features", 'IsPrimaryKey "user_id"', "primary_key",
               "critical", True, ""),
]  # fmt: skip


def _datum(name: str, table: str, value: float) -> dict:
    return {
        "MetricName": name,
        "Dimensions": [{"Name": "Job", "Value": "build_marts"}, {"Name": "Table", "Value": table}],
        "Timestamp": AT,
        "Value": value,
        "Unit": "Count",
    }


EXPECTED = [
    _datum("RulesEvaluated", "mart_sales_daily", 3.0),
    _datum("RulesFailed", "mart_sales_daily", 2.0),
    _datum("CriticalRulesFailed", "mart_sales_daily", 1.0),
    _datum("RulesEvaluated", "customer_features", 1.0),
    _datum("RulesFailed", "customer_features", 0.0),
    _datum("CriticalRulesFailed", "customer_features", 0.0),
]


def test_metric_data_counts_rules_per_job_and_table():
    assert metric_data(RESULTS, AT) == EXPECTED


def test_cloudwatch_publisher_sends_the_data_points_in_allowed_chunks():
    client = boto3.client("cloudwatch", region_name="eu-west-1")
    with Stubber(client) as stub:
        for chunk in (EXPECTED[:4], EXPECTED[4:]):
            stub.add_response(
                "put_metric_data", {}, {"Namespace": QUALITY_METRICS_NAMESPACE, "MetricData": chunk}
            )
        CloudWatchMetrics(client, max_per_call=4).publish(RESULTS, AT)
        stub.assert_no_pending_responses()


def test_local_publisher_appends_json_lines(tmp_path):
    path = tmp_path / "state" / "metrics.jsonl"
    publisher = JsonLinesMetrics(path)

    publisher.publish(RESULTS, AT)
    publisher.publish(RESULTS[:1], AT)

    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(lines) == 6 + 3
    assert lines[1] == {
        "Namespace": QUALITY_METRICS_NAMESPACE,
        **_datum("RulesFailed", "mart_sales_daily", 2.0),
        "Timestamp": "2026-10-01T06:00:00+00:00",
    }


def test_jobs_publishing_side_by_side_keep_each_job_s_points_together(tmp_path):
    # The local batch runs extract beside curate and marts beside recommendations, all
    # publishing to one file: each publish is one block of lines, whole.
    path = tmp_path / "metrics.jsonl"
    jobs = [f"job_{index}" for index in range(8)]
    results = {
        job: [RuleResult(job, f"table_{table}", "RowCount > 0", "row_count", "critical", True, "")
              for table in range(40)]
        for job in jobs
    }  # fmt: skip
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        for _ in pool.map(lambda job: JsonLinesMetrics(path).publish(results[job], AT), jobs):
            pass

    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(lines) == 8 * 40 * 3
    written = [line["Dimensions"][0]["Value"] for line in lines]
    blocks = [written[start : start + 120] for start in range(0, len(written), 120)]
    assert sorted(block[0] for block in blocks) == jobs
    assert all(len(set(block)) == 1 for block in blocks)


def test_configuration_picks_the_publisher(tmp_path):
    assert isinstance(metrics_publisher(None, None), NoMetrics)
    local = metrics_publisher(None, str(tmp_path / "m.jsonl"))
    assert local == JsonLinesMetrics(tmp_path / "m.jsonl")
