"""Monitoring: encrypted TLS-only alarm topic, alarms for RDS, MSK and Redshift that notify it,
and the construct later stacks use for their own alarms and widgets."""

from __future__ import annotations

import json

import pytest
from aws_cdk import App, Duration, Stack
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Match, Template
from synthesized import TEST_ENV, Assembly, only, resources

from stacks.constructs.alarms import AlarmsAndWidgets, AlarmSpec

pytestmark = pytest.mark.infra

GIB = 1024**3


# Sections that the Ingest and Realtime stacks add; test_ingest.py and test_realtime.py cover them.
LATER_SECTIONS = (
    "/IngestCollectorApi/",
    "/RecommendationsApi/",
    "/RealTimeProcessing/",
    "/BatchEtl/",
    "/MlPipelines/",
)


def _alarms(assembly: Assembly, env: str) -> dict[str, dict]:
    """Alarms of the core services keyed by metric name (or math expression)."""
    found = {}
    for alarm in resources(assembly.template(env, "Monitoring"), "AWS::CloudWatch::Alarm").values():
        if any(section in alarm["Metadata"]["aws:cdk:path"] for section in LATER_SECTIONS):
            continue
        properties = alarm["Properties"]
        key = properties.get("MetricName") or properties["Metrics"][0]["Expression"]
        found[key] = properties
    return found


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_alarm_topic_is_encrypted_and_tls_only(assembly: Assembly, env: str):
    template = Template.from_json(assembly.template(env, "Monitoring"))
    template.has_resource_properties(
        "AWS::SNS::Topic",
        {"KmsMasterKeyId": {"Fn::GetAtt": [Match.string_like_regexp("^AlarmTopicKey"), "Arn"]}},
    )
    template.has_resource_properties(
        "AWS::SNS::TopicPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Effect": "Deny",
                                "Action": "sns:Publish",
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        )
                    ]
                )
            }
        },
    )
    template.resource_count_is("AWS::SNS::Subscription", 0)


def test_alarm_email_subscribes_to_the_topic(assembly: Assembly):
    subscription = only(assembly.template(TEST_ENV, "Monitoring"), "AWS::SNS::Subscription")
    assert subscription["Properties"]["Protocol"] == "email"
    assert subscription["Properties"]["Endpoint"] == "oncall@example.com"


def test_dev_alarms_cover_rds_msk_serverless_and_redshift_serverless(assembly: Assembly):
    alarms = _alarms(assembly, "dev")
    assert set(alarms) == {
        "CPUUtilization",
        "FreeStorageSpace",
        "DatabaseConnections",
        "MessagesInPerSec",
        "ComputeSeconds",
    }
    assert (
        alarms["CPUUtilization"]["Threshold"],
        alarms["CPUUtilization"]["ComparisonOperator"],
    ) == (
        80,
        "GreaterThanThreshold",
    )
    assert alarms["FreeStorageSpace"]["Threshold"] == 5 * GIB
    assert alarms["FreeStorageSpace"]["ComparisonOperator"] == "LessThanThreshold"
    assert alarms["DatabaseConnections"]["Threshold"] == 80
    dead_letters = alarms["MessagesInPerSec"]
    assert {d["Name"]: d["Value"] for d in dead_letters["Dimensions"]} == {
        "Cluster Name": "ecommerce-dev",
        "Topic": "ecommerce.events.dlq",
    }
    assert (dead_letters["Statistic"], dead_letters["Threshold"]) == ("Sum", 0)
    # 8 base RPU for a full hour = 8 * 3600 RPU-seconds.
    assert alarms["ComputeSeconds"]["Threshold"] == 28_800
    assert alarms["ComputeSeconds"]["Period"] == 3600


def test_prod_alarms_cover_provisioned_brokers(assembly: Assembly):
    alarms = _alarms(assembly, "prod")
    assert "OfflinePartitionsCount" in alarms
    disk = alarms["MAX([b1,b2,b3])"]
    brokers = sorted(
        next(
            d["Value"] for d in m["MetricStat"]["Metric"]["Dimensions"] if d["Name"] == "Broker ID"
        )
        for m in disk["Metrics"][1:]
    )
    assert brokers == ["1", "2", "3"]
    assert alarms["ComputeSeconds"]["Threshold"] == 32 * 3600


def test_provisioned_warehouse_gets_health_and_disk_alarms(assembly: Assembly):
    alarms = _alarms(assembly, TEST_ENV)
    assert alarms["HealthStatus"]["TreatMissingData"] == "breaching"
    assert alarms["PercentageDiskSpaceUsed"]["Threshold"] == 80


@pytest.mark.parametrize("env", ["dev", "prod", TEST_ENV])
def test_every_alarm_notifies_the_alarm_topic_on_alarm_and_ok(assembly: Assembly, env: str):
    topic = {"Ref": next(iter(resources(assembly.template(env, "Monitoring"), "AWS::SNS::Topic")))}
    for properties in _alarms(assembly, env).values():
        assert properties["AlarmActions"] == [topic]
        assert properties["OKActions"] == [topic]


def test_dashboard_is_named_per_env_and_linked_from_outputs(assembly: Assembly):
    template = assembly.template("prod", "Monitoring")
    dashboard = only(template, "AWS::CloudWatch::Dashboard")
    assert dashboard["Properties"]["DashboardName"] == "ecommerce-prod"
    url = "".join(
        part if isinstance(part, str) else "<region>"
        for part in template["Outputs"]["DashboardUrl"]["Value"]["Fn::Join"][1]
    )
    assert url.endswith("#dashboards:name=ecommerce-prod")


def test_alarms_and_widgets_construct_routes_alarms_and_draws_them():
    stack = Stack(App(), "Probe")
    topic = sns.Topic(stack, "Topic")
    dashboard = cw.Dashboard(stack, "Dashboard")
    section = AlarmsAndWidgets(
        stack, "Ingest", title="Ingest", alarm_topic=topic, dashboard=dashboard
    )
    metric = cw.Metric(namespace="Probe", metric_name="Errors", period=Duration.minutes(1))
    section.add_alarms(
        AlarmSpec(
            "Errors", metric, 5, cw.ComparisonOperator.GREATER_THAN_THRESHOLD, "Errors above 5"
        )
    )
    section.add_graphs({"Errors": [metric]})
    template = Template.from_stack(stack)
    topic_ref = {"Ref": stack.get_logical_id(topic.node.default_child)}
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "Threshold": 5,
            "AlarmActions": [topic_ref],
            "OKActions": [topic_ref],
            "EvaluationPeriods": 3,
        },
    )
    body = "".join(
        part if isinstance(part, str) else "?"
        for part in only(template.to_json(), "AWS::CloudWatch::Dashboard")["Properties"][
            "DashboardBody"
        ]["Fn::Join"][1]
    )
    widgets = json.loads(body)["widgets"]
    header, alarm, graph = widgets
    assert header["properties"]["markdown"] == "## Ingest"
    assert len(alarm["properties"]["annotations"]["alarms"]) == 1  # an alarm widget
    assert graph["properties"]["title"] == "Errors"
    assert "annotations" not in graph["properties"]
