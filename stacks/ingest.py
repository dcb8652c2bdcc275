"""Ingest: the platform's HTTP API. An API Gateway HTTP API (throttled, access-logged) in front
of the collector Lambda, which runs in the VPC and publishes to MSK over IAM auth: accepted
events to the events topic, rejected ones to the dead-letter topic, and nothing else; and of
the recommendations Lambda (stacks/constructs/recommendations_api.py), which reads PostgreSQL
as a read-only role."""

from __future__ import annotations

import json
from typing import Any

import jsii
from aws_cdk import CfnOutput, Duration
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from contracts.events.topics import DEAD_LETTER_TOPIC, EVENTS_TOPIC
from stacks.constructs.alarms import AlarmSpec
from stacks.constructs.python_lambda import LambdaSource, python_function
from stacks.constructs.recommendations_api import RECOMMENDATIONS_ROUTE, RecommendationsApi
from stacks.foundation import Foundation
from stacks.monitoring import MonitoringStack
from stacks.network import NetworkStack
from stacks.platform_stack import PlatformStack
from stacks.retention import LOG_RETENTION
from stacks.streaming import StreamingStack

COLLECTOR_SOURCE = LambdaSource(
    paths=(
        "lambdas/collector",
        "lambdas/__init__.py",
        "lambdas/shared",
        "contracts/__init__.py",
        "contracts/events",
    ),
    requirements="lambdas/collector/requirements.txt",
)
EVENTS_ROUTE = "/v1/events"
HEALTH_ROUTE = "/v1/health"
CORS_MAX_AGE_S = 3600  # as the local collector (lambdas/collector/api.py)
# HTTP API access-log fields (one JSON object per request).
_ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "ip": "$context.identity.sourceIp",
    "requestTime": "$context.requestTime",
    "routeKey": "$context.routeKey",
    "status": "$context.status",
    "responseLength": "$context.responseLength",
    "latencyMs": "$context.responseLatency",
    "integrationError": "$context.integrationErrorMessage",
}


@jsii.implements(apigwv2.IAccessLogSettings)
class _AccessLogSettings:
    def __init__(self, log_group: logs.ILogGroup) -> None:
        self._destination = apigwv2.LogGroupLogDestination(log_group)

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigateway.AccessLogFormat:
        return apigateway.AccessLogFormat.custom(json.dumps(_ACCESS_LOG_FIELDS))


class IngestStack(PlatformStack):
    def __init__(
        self, scope: Construct, construct_id: str, *, foundation: Foundation, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.collector = self._collector(foundation.network, foundation.streaming)
        self.api = self._api()
        self.recommendations = RecommendationsApi(
            self, api=self.api, network=foundation.network, database=foundation.oltp.database
        )
        self._alarms(foundation.monitoring)
        self.recommendations.add_alarms(foundation.monitoring.section("Recommendations API"))
        CfnOutput(
            self,
            "CollectorApiUrl",
            value=self.api.api_endpoint,
            description=f"Collector API: POST {EVENTS_ROUTE} (events), GET {HEALTH_ROUTE}",
        )
        CfnOutput(
            self,
            "RecommendationsRouteArn",
            value=self.recommendations.route_arn,
            description=f"GET {RECOMMENDATIONS_ROUTE} (IAM auth): grant execute-api:Invoke on it"
            " to the shop backend's role",
        )
        CfnOutput(
            self,
            "CollectorFunctionName",
            value=self.collector.function_name,
            description="Collector Lambda behind the API; its logs show rejected requests",
        )

    def _collector(self, network: NetworkStack, streaming: StreamingStack) -> lambda_.Function:
        security_group = ec2.SecurityGroup(
            self, "CollectorSg", vpc=network.vpc, description="collector Lambda"
        )
        streaming.admit_clients(security_group)
        function = python_function(
            self,
            "Collector",
            source=COLLECTOR_SOURCE,
            handler="lambdas.collector.handler.handler",
            description="Collector API: validates events and publishes them to MSK",
            # API Gateway gives up after 30 s; the producer fails a request after 10 s.
            timeout=Duration.seconds(20),
            memory_size=self.config.ingest.collector_memory_mb,
            reserved_concurrency=self.config.ingest.collector_reserved_concurrency,
            vpc=network.vpc,
            vpc_subnets=network.private_subnets,
            security_groups=[security_group],
            environment={
                "KAFKA_BOOTSTRAP_SERVERS": streaming.bootstrap_brokers,
                "KAFKA_AUTH": "iam",
                "EVENTS_TOPIC": EVENTS_TOPIC,
                "DEAD_LETTER_TOPIC": DEAD_LETTER_TOPIC,
            },
        )
        streaming.grant_produce(function, [EVENTS_TOPIC, DEAD_LETTER_TOPIC])
        return function

    def _api(self) -> apigwv2.HttpApi:
        ingest = self.config.ingest
        api = apigwv2.HttpApi(
            self,
            "CollectorApi",
            api_name=f"{self.prefix}-collector",
            description="Event collector: POST /v1/events, GET /v1/health",
            create_default_stage=False,
            cors_preflight=_cors_preflight(ingest.cors_allowed_origins),
        )
        integration = integrations.HttpLambdaIntegration("Collector", self.collector)
        api.add_routes(
            path=EVENTS_ROUTE, methods=[apigwv2.HttpMethod.POST], integration=integration
        )
        api.add_routes(path=HEALTH_ROUTE, methods=[apigwv2.HttpMethod.GET], integration=integration)
        access_logs = logs.LogGroup(
            self, "ApiAccessLogs", retention=LOG_RETENTION[ingest.access_log_retention_days]
        )
        apigwv2.HttpStage(
            self,
            "DefaultStage",
            http_api=api,
            stage_name="$default",
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(
                rate_limit=ingest.throttle_rate_per_second, burst_limit=ingest.throttle_burst
            ),
            access_log_settings=_AccessLogSettings(access_logs),
        )
        return api

    def _alarms(self, monitoring: MonitoringStack) -> None:
        five_minutes = Duration.minutes(5)
        errors = self.collector.metric_errors(period=five_minutes, statistic="Sum")
        throttles = self.collector.metric_throttles(period=five_minutes, statistic="Sum")
        server_errors = self.api.metric_server_error(period=five_minutes, statistic="Sum")
        section = monitoring.section("Ingest (collector API)")
        section.add_alarms(
            AlarmSpec(
                "CollectorErrors",
                errors,
                0,
                cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
                "Collector Lambda errors (unhandled: Kafka or code failures)",
                evaluation_periods=1,
            ),
            AlarmSpec(
                "CollectorThrottles",
                throttles,
                0,
                cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
                "Collector Lambda throttled (account or reserved concurrency reached)",
                evaluation_periods=1,
            ),
            AlarmSpec(
                "CollectorApi5xx",
                server_errors,
                0,
                cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
                "Collector API answered 5xx (clients retry; events may be delayed)",
                evaluation_periods=1,
            ),
        )
        section.add_graphs(
            {
                "Collector requests": [self.api.metric_count(period=five_minutes)],
                "Collector latency (ms)": [self.api.metric_latency(period=five_minutes)],
            }
        )


def _cors_preflight(origins: tuple[str, ...]) -> apigwv2.CorsPreflightOptions | None:
    """API Gateway answers browsers' preflights for these origins (and adds the CORS headers to
    the collector's answers); the local collector applies the same setting itself."""
    if not origins:
        return None
    return apigwv2.CorsPreflightOptions(
        allow_origins=list(origins),
        allow_methods=[apigwv2.CorsHttpMethod.GET, apigwv2.CorsHttpMethod.POST],
        allow_headers=["content-type"],
        max_age=Duration.seconds(CORS_MAX_AGE_S),
    )
