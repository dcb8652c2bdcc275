"""Ingest: the collector API throttled from config, the collector in the VPC publishing to
exactly the two event topics, and its alarms on the platform dashboard."""

from __future__ import annotations

import json

import pytest
from synthesized import (
    REAL_ENVS,
    SHOP_ORIGIN,
    TEST_ENV,
    Assembly,
    allow_statements,
    as_list,
    only,
    resources,
)

from cdk_app.config import ConfigError, load_config, read_cdk_context
from lambdas.collector.api import CORS_MAX_AGE_S

pytestmark = pytest.mark.infra


def _imported_output(value: dict) -> str:
    """The output name a cross-stack reference (Fn::GetStackOutput) reads."""
    return value["Fn::GetStackOutput"]["OutputName"]


def _joined(resource) -> str:
    """An ARN built with Fn::Join, pseudo parameters written as ${Name}."""
    parts = resource["Fn::Join"][1]
    return "".join(p if isinstance(p, str) else "${" + p["Ref"] + "}" for p in parts)


@pytest.mark.parametrize(
    ("env", "rate", "burst", "days"), [("dev", 50, 100, 14), ("prod", 1000, 2000, 90)]
)
def test_default_stage_is_throttled_and_access_logged_from_config(
    assembly: Assembly, env, rate, burst, days
):
    template = assembly.template(env, "Ingest")
    stage = only(template, "AWS::ApiGatewayV2::Stage")["Properties"]
    assert stage["StageName"] == "$default"
    assert stage["AutoDeploy"] is True
    assert stage["DefaultRouteSettings"]["ThrottlingRateLimit"] == rate
    assert stage["DefaultRouteSettings"]["ThrottlingBurstLimit"] == burst
    (log_group_id,) = [
        logical_id
        for logical_id, group in resources(template, "AWS::Logs::LogGroup").items()
        if logical_id.startswith("ApiAccessLogs")
    ]
    assert stage["AccessLogSettings"]["DestinationArn"] == {"Fn::GetAtt": [log_group_id, "Arn"]}
    assert set(json.loads(stage["AccessLogSettings"]["Format"])) >= {"requestId", "status", "ip"}
    retention = template["Resources"][log_group_id]["Properties"]["RetentionInDays"]
    assert retention == days


def _function_id(template: dict, handler: str) -> str:
    (function_id,) = [
        logical_id
        for logical_id, function in resources(template, "AWS::Lambda::Function").items()
        if function["Properties"]["Handler"] == handler
    ]
    return function_id


def test_api_routes_each_path_to_its_function(assembly: Assembly):
    template = assembly.template("dev", "Ingest")
    integrations = {
        logical_id: integration["Properties"]
        for logical_id, integration in resources(template, "AWS::ApiGatewayV2::Integration").items()
    }
    routes = {
        r["Properties"]["RouteKey"]: integrations[
            r["Properties"]["Target"]["Fn::Join"][1][1]["Ref"]
        ]
        for r in resources(template, "AWS::ApiGatewayV2::Route").values()
    }
    collector = _function_id(template, "lambdas.collector.handler.handler")
    recommendations = _function_id(template, "lambdas.recommendations.handler.handler")
    assert {key: i["IntegrationUri"]["Fn::GetAtt"][0] for key, i in routes.items()} == {
        "GET /v1/health": collector,
        "POST /v1/events": collector,
        "GET /v1/recommendations": recommendations,
    }
    for integration in integrations.values():
        assert integration["IntegrationType"] == "AWS_PROXY"
        assert integration["PayloadFormatVersion"] == "2.0"


def test_browsers_may_post_only_from_configured_origins(assembly: Assembly):
    for env in REAL_ENVS:  # no origins configured: server-side clients only
        api = only(assembly.template(env, "Ingest"), "AWS::ApiGatewayV2::Api")["Properties"]
        assert "CorsConfiguration" not in api
    api = only(assembly.template(TEST_ENV, "Ingest"), "AWS::ApiGatewayV2::Api")["Properties"]
    assert api["CorsConfiguration"] == {
        "AllowOrigins": [SHOP_ORIGIN],
        "AllowMethods": ["GET", "POST"],
        "AllowHeaders": ["content-type"],
        "MaxAge": CORS_MAX_AGE_S,
    }


def test_collector_runs_in_the_vpc_with_msk_iam_settings(assembly: Assembly):
    template = assembly.template("prod", "Ingest")
    function_id = _function_id(template, "lambdas.collector.handler.handler")
    function = template["Resources"][function_id]["Properties"]
    assert function["Runtime"] == "python3.12"
    assert function["MemorySize"] == 1024
    assert len(function["VpcConfig"]["SubnetIds"]) == 3
    environment = function["Environment"]["Variables"]
    assert {k: v for k, v in environment.items() if k != "KAFKA_BOOTSTRAP_SERVERS"} == {
        "KAFKA_AUTH": "iam",
        "EVENTS_TOPIC": "ecommerce.events.v1",
        "DEAD_LETTER_TOPIC": "ecommerce.events.dlq",
    }
    # The IAM bootstrap string the Streaming stack reads back from MSK.
    assert "BootstrapBrokerStringSaslIam" in _imported_output(
        environment["KAFKA_BOOTSTRAP_SERVERS"]
    )


def test_collector_writes_to_the_two_topics_only(assembly: Assembly):
    statements = [
        s
        for path, s in allow_statements(assembly.template("dev", "Ingest"))
        if "/CollectorFunction/" in path
    ]
    kafka = {
        action: statement["Resource"]
        for statement in statements
        for action in as_list(statement["Action"])
        if action.startswith("kafka-cluster:")
    }
    assert set(kafka) == {
        "kafka-cluster:Connect",
        "kafka-cluster:WriteDataIdempotently",
        "kafka-cluster:DescribeTopic",
        "kafka-cluster:WriteData",
    }
    topics = sorted(_joined(arn).rsplit("/", 1)[1] for arn in kafka["kafka-cluster:WriteData"])
    assert topics == ["ecommerce.events.dlq", "ecommerce.events.v1"]
    assert all(
        _joined(arn).startswith(
            "arn:${AWS::Partition}:kafka:${AWS::Region}:${AWS::AccountId}:topic/ecommerce-dev/*/"
        )
        for arn in kafka["kafka-cluster:WriteData"]
    )
    assert "ClusterArn" in _imported_output(kafka["kafka-cluster:Connect"])


def test_collector_alarms_notify_the_platform_topic(assembly: Assembly):
    template = assembly.template("dev", "Monitoring")
    topic = {"Ref": next(iter(resources(template, "AWS::SNS::Topic")))}
    alarms = {
        a["Properties"]["MetricName"]: a["Properties"]
        for a in resources(template, "AWS::CloudWatch::Alarm").values()
        if "/IngestCollectorApi/" in a["Metadata"]["aws:cdk:path"]
    }
    assert set(alarms) == {"Errors", "Throttles", "5xx"}
    for name, alarm in alarms.items():
        assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (0, "GreaterThanThreshold")
        assert alarm["AlarmActions"] == [topic], name
        (dimension,) = alarm["Dimensions"]
        assert _imported_output(dimension["Value"]).startswith(
            "PublishOutputRefCollectorApi" if name == "5xx" else "PublishOutputRefCollectorFunction"
        )


@pytest.mark.parametrize(
    ("ingest", "message"),
    [
        (
            {"throttle_rate_per_second": 300, "throttle_burst": 100},
            r"ingest\.throttle_burst: .*at least throttle_rate_per_second \(got 100\)",
        ),
        ({"access_log_retention_days": 10}, r"ingest\.access_log_retention_days: .*one of 1, 3"),
        ({"throttle_rate_per_second": 0}, r"ingest\.throttle_rate_per_second: .*greater than 0"),
        (
            {"cors_allowed_origins": ["https://shop.example.com/cart"]},
            r"ingest\.cors_allowed_origins\.0: .*should match pattern",
        ),
        ({"cors_allowed_origins": ["*"]}, r"ingest\.cors_allowed_origins\.0: "),
    ],
)
def test_bad_ingest_settings_name_the_key(ingest: dict, message: str):
    environments = read_cdk_context()["environments"]
    context = {"environments": {"dev": {**environments["dev"], "ingest": ingest}}}
    with pytest.raises(ConfigError, match=message):
        load_config("dev", context)
