"""The recommendations API: the Lambda behind GET /v1/recommendations on the platform's HTTP
API, in the VPC, signing in to PostgreSQL as the read-only reco_api role with an IAM token
(rds-db:connect on that one user: no secret to read, nothing to write), plus its alarms.

The route takes IAM authorization: answers carry a customer's purchase history ("you bought it
before"), so the shop's backend calls it with its own AWS credentials (grant it
execute-api:Invoke on `route_arn`), never a browser with a bare user id.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_ec2 as ec2

from contracts.oltp.roles import RECOMMENDATIONS_API_USER
from stacks.constructs.alarms import AlarmsAndWidgets, AlarmSpec
from stacks.constructs.database import Database
from stacks.constructs.python_lambda import LambdaSource, python_function
from stacks.network import NetworkStack
from stacks.platform_stack import PlatformStack

RECOMMENDATIONS_SOURCE = LambdaSource(
    paths=(
        "lambdas/recommendations",
        "lambdas/__init__.py",
        "lambdas/shared/__init__.py",
        "lambdas/shared/settings.py",
        "contracts/__init__.py",
        "contracts/database.py",
        "contracts/shopper_signals.py",
    ),
    requirements="lambdas/recommendations/requirements.txt",
)
RECOMMENDATIONS_ROUTE = "/v1/recommendations"
MEMORY_MB = 512
# Connecting waits at most 5 s and a statement 2 s (lambdas/recommendations/database.py).
TIMEOUT = Duration.seconds(10)
# p99 duration that pages: the local p99 is a few ms (benchmarks/bench_recommendations_api.py);
# a cold start with a new connection and IAM sign-in stays well under this.
P99_DURATION_ALARM_MS = 1_000
_FIVE_MINUTES = Duration.minutes(5)
_GT = cw.ComparisonOperator.GREATER_THAN_THRESHOLD


class RecommendationsApi:
    """`function` (construct ids Recommendations*) and its route on `api` (`route_arn`)."""

    def __init__(
        self,
        scope: PlatformStack,
        *,
        api: apigwv2.HttpApi,
        network: NetworkStack,
        database: Database,
    ) -> None:
        security_group = ec2.SecurityGroup(
            scope, "RecommendationsSg", vpc=network.vpc, description="recommendations Lambda"
        )
        database.admit_clients(security_group)
        instance = database.instance
        self.function = python_function(
            scope,
            "Recommendations",
            source=RECOMMENDATIONS_SOURCE,
            handler="lambdas.recommendations.handler.handler",
            description="Recommendations API: live session blended with the batch models",
            timeout=TIMEOUT,
            memory_size=MEMORY_MB,
            reserved_concurrency=scope.config.ingest.recommendations_reserved_concurrency,
            vpc=network.vpc,
            vpc_subnets=network.private_subnets,
            security_groups=[security_group],
            environment={
                "DATABASE_HOST": instance.db_instance_endpoint_address,
                "DATABASE_PORT": instance.db_instance_endpoint_port,
                "DATABASE_NAME": database.name,
                "DATABASE_USER": RECOMMENDATIONS_API_USER,
            },
        )
        instance.grant_connect(self.function, RECOMMENDATIONS_API_USER)
        (route,) = api.add_routes(
            path=RECOMMENDATIONS_ROUTE,
            methods=[apigwv2.HttpMethod.GET],
            integration=integrations.HttpLambdaIntegration("Recommendations", self.function),
            authorizer=authorizers.HttpIamAuthorizer(),
        )
        self.route_arn = route.route_arn

    def add_alarms(self, section: AlarmsAndWidgets) -> None:
        """Errors (a 5xx the handler did not answer itself), throttles and p99 duration."""
        errors = self.function.metric_errors(period=_FIVE_MINUTES, statistic="Sum")
        throttles = self.function.metric_throttles(period=_FIVE_MINUTES, statistic="Sum")
        p99 = self.function.metric_duration(period=_FIVE_MINUTES, statistic="p99")
        section.add_alarms(
            AlarmSpec(
                "RecommendationsErrors",
                errors,
                0,
                _GT,
                "Recommendations Lambda errors (unhandled: code or database role failures)",
                evaluation_periods=1,
            ),
            AlarmSpec(
                "RecommendationsThrottles",
                throttles,
                0,
                _GT,
                "Recommendations Lambda throttled (concurrency limit)",
                evaluation_periods=1,
            ),
            AlarmSpec(
                "RecommendationsP99Duration",
                p99,
                P99_DURATION_ALARM_MS,
                _GT,
                f"Recommendations p99 duration over {P99_DURATION_ALARM_MS} ms for 15 minutes",
            ),
        )
        section.add_graphs({"Recommendations duration p99 (ms)": [p99]})
