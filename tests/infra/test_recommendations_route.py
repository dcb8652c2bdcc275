"""The recommendations API in the Ingest stack: the Lambda in the VPC signing in to RDS as the
read-only reco_api user (rds-db:connect on that user only, no secret), its IAM-authorized
route on the HTTP API, and its alarms on errors, throttles and p99 duration."""

from __future__ import annotations

import pytest
from synthesized import Assembly, allow_statements, as_list, resources

from contracts.oltp.roles import RECOMMENDATIONS_API_USER
from stacks.constructs.recommendations_api import P99_DURATION_ALARM_MS

pytestmark = pytest.mark.infra

HANDLER = "lambdas.recommendations.handler.handler"


def _function(template: dict) -> tuple[str, dict]:
    (found,) = [
        (logical_id, function["Properties"])
        for logical_id, function in resources(template, "AWS::Lambda::Function").items()
        if function["Properties"]["Handler"] == HANDLER
    ]
    return found


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_function_runs_in_the_vpc_and_names_the_database_not_a_secret(
    assembly: Assembly, env: str
) -> None:
    template = assembly.template(env, "Ingest")
    _, function = _function(template)
    variables = function["Environment"]["Variables"]

    assert set(variables) == {"DATABASE_HOST", "DATABASE_PORT", "DATABASE_NAME", "DATABASE_USER"}
    assert variables["DATABASE_USER"] == RECOMMENDATIONS_API_USER == "reco_api"
    assert variables["DATABASE_NAME"] == "ecommerce"
    for name in ("DATABASE_HOST", "DATABASE_PORT"):
        output = variables[name]["Fn::GetStackOutput"]["OutputName"]
        assert "Database" in output
        assert "Endpoint" in output
    assert function["Runtime"] == "python3.12"
    assert (function["MemorySize"], function["Timeout"]) == (512, 10)
    # The collector's private subnets.
    collectors = [
        f["Properties"]
        for f in resources(template, "AWS::Lambda::Function").values()
        if f["Properties"]["Handler"] == "lambdas.collector.handler.handler"
    ]
    assert function["VpcConfig"]["SubnetIds"] == collectors[0]["VpcConfig"]["SubnetIds"]
    assert len(function["VpcConfig"]["SubnetIds"]) == 3


def test_function_may_only_connect_as_reco_api(assembly: Assembly) -> None:
    template = assembly.template("dev", "Ingest")
    statements = [
        s for path, s in allow_statements(template) if "/RecommendationsFunction/" in path
    ]
    actions = {action for s in statements for action in as_list(s["Action"])}

    # Beyond the managed policies (logs, VPC network interfaces) and its own dead-letter
    # queue (every project function's): one action on one database user.
    assert actions == {"rds-db:connect", "sqs:SendMessage"}
    (statement,) = [s for s in statements if s["Action"] == "rds-db:connect"]
    (queue,) = [s for s in statements if s["Action"] == "sqs:SendMessage"]
    assert queue["Resource"]["Fn::GetAtt"][0].startswith("RecommendationsDeadLetters")
    parts = statement["Resource"]["Fn::Join"][1]
    assert parts[-1] == f"/{RECOMMENDATIONS_API_USER}"
    assert "dbuser:" in parts[-3]
    assert "DbiResourceId" in parts[-2]["Fn::GetStackOutput"]["OutputName"]


def test_route_takes_iam_authorization_and_collector_routes_do_not(assembly: Assembly) -> None:
    routes = {
        r["Properties"]["RouteKey"]: r["Properties"].get("AuthorizationType", "NONE")
        for r in resources(assembly.template("dev", "Ingest"), "AWS::ApiGatewayV2::Route").values()
    }

    assert routes == {
        "GET /v1/recommendations": "AWS_IAM",
        "POST /v1/events": "NONE",
        "GET /v1/health": "NONE",
    }


def test_alarms_on_errors_throttles_and_p99_duration(assembly: Assembly) -> None:
    template = assembly.template("dev", "Monitoring")
    topic = {"Ref": next(iter(resources(template, "AWS::SNS::Topic")))}
    alarms = {
        a["Properties"]["MetricName"]: a["Properties"]
        for a in resources(template, "AWS::CloudWatch::Alarm").values()
        if "/RecommendationsApi/" in a["Metadata"]["aws:cdk:path"]
    }

    assert set(alarms) == {"Errors", "Throttles", "Duration"}
    assert {name: a["Threshold"] for name, a in alarms.items()} == {
        "Errors": 0,
        "Throttles": 0,
        "Duration": P99_DURATION_ALARM_MS,
    }
    assert alarms["Duration"]["ExtendedStatistic"] == "p99"
    assert alarms["Duration"]["EvaluationPeriods"] == 3
    for alarm in alarms.values():
        assert alarm["AlarmActions"] == [topic]
        (dimension,) = alarm["Dimensions"]
        output = dimension["Value"]["Fn::GetStackOutput"]["OutputName"]
        assert output.startswith("PublishOutputRefRecommendationsFunction")
