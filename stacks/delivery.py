"""The deployment identity of the CI/CD workflows, deployed once per account by an admin: GitHub's
OIDC provider and the roles its workflow runs assume. No long-lived keys anywhere.

- The deploy role is assumed by a run of this repository on `main` or in one of the deploy
  environments; it may only assume the CDK bootstrap roles of this account and region (which
  `cdk deploy` then uses), so what a deployment may do stays defined by `cdk bootstrap`.
- The diff role is assumed by the repository's pull-request runs (never a fork's: GitHub gives
  a fork's run no OIDC token); it may only assume the bootstrap lookup role, which reads.
- The smoke-test role (deploy environments only) reads the outputs and the run history the
  smoke test checks (`ecom smoke`), and queries the warehouse as its admin through the
  Redshift Data API.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Aws, CfnOutput, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from cdk_app.config import DeliveryConfig

GITHUB_ISSUER = "token.actions.githubusercontent.com"
GITHUB_AUDIENCE = "sts.amazonaws.com"
# The qualifier `cdk bootstrap` uses unless told otherwise (cdk.json sets no other).
CDK_QUALIFIER = "hnb659fds"
DEPLOY_ROLE_NAME = "ecommerce-github-deploy"
DIFF_ROLE_NAME = "ecommerce-github-diff"
SMOKE_ROLE_NAME = "ecommerce-github-smoke"


def deploy_subjects(config: DeliveryConfig) -> list[str]:
    """The `sub` claims the deploy role trusts: main, and each deploy environment."""
    repo = f"repo:{config.github_repository}"
    return [
        f"{repo}:ref:refs/heads/main",
        *(f"{repo}:environment:{name}" for name in config.deploy_environments),
    ]


def environment_subjects(config: DeliveryConfig) -> list[str]:
    return [
        f"repo:{config.github_repository}:environment:{name}" for name in config.deploy_environments
    ]


def pull_request_subject(config: DeliveryConfig) -> str:
    return f"repo:{config.github_repository}:pull_request"


def _bootstrap_role_arn(kind: str) -> str:
    """A CDK bootstrap role of this account and region (`*` for every kind)."""
    return (
        f"arn:{Aws.PARTITION}:iam::{Aws.ACCOUNT_ID}:role/"
        f"cdk-{CDK_QUALIFIER}-{kind}-{Aws.ACCOUNT_ID}-{Aws.REGION}"
    )


class DeliveryStack(Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, config: DeliveryConfig, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        if config.create_oidc_provider:
            provider_arn = iam.OidcProviderNative(
                self,
                "GithubOidcProvider",
                url=f"https://{GITHUB_ISSUER}",
                client_ids=[GITHUB_AUDIENCE],
            ).oidc_provider_arn
        else:
            provider_arn = (
                f"arn:{Aws.PARTITION}:iam::{Aws.ACCOUNT_ID}:oidc-provider/{GITHUB_ISSUER}"
            )

        def github_principal(subjects: list[str]) -> iam.WebIdentityPrincipal:
            return iam.WebIdentityPrincipal(
                provider_arn,
                conditions={
                    "StringEquals": {
                        f"{GITHUB_ISSUER}:aud": GITHUB_AUDIENCE,
                        f"{GITHUB_ISSUER}:sub": subjects,
                    }
                },
            )

        deploy = iam.Role(
            self,
            "DeployRole",
            role_name=DEPLOY_ROLE_NAME,
            assumed_by=github_principal(deploy_subjects(config)),
            description="GitHub Actions deploys: may only assume the CDK bootstrap roles",
        )
        deploy.add_to_policy(
            iam.PolicyStatement(actions=["sts:AssumeRole"], resources=[_bootstrap_role_arn("*")])
        )
        diff = iam.Role(
            self,
            "DiffRole",
            role_name=DIFF_ROLE_NAME,
            assumed_by=github_principal([pull_request_subject(config)]),
            description="GitHub Actions pull requests: may only assume the CDK lookup role",
        )
        diff.add_to_policy(
            iam.PolicyStatement(
                actions=["sts:AssumeRole"], resources=[_bootstrap_role_arn("lookup-role")]
            )
        )
        smoke = iam.Role(
            self,
            "SmokeTestRole",
            role_name=SMOKE_ROLE_NAME,
            assumed_by=github_principal(environment_subjects(config)),
            description="GitHub Actions smoke test: reads what `ecom smoke` checks",
        )
        for statement in _smoke_test_statements(config):
            smoke.add_to_policy(statement)

        for name, value, description in (
            (
                "DeployRoleArn",
                deploy.role_arn,
                "set as the repository variable AWS_DEPLOY_ROLE_ARN",
            ),
            ("DiffRoleArn", diff.role_arn, "set as the repository variable AWS_DIFF_ROLE_ARN"),
            ("SmokeRoleArn", smoke.role_arn, "set as the repository variable AWS_SMOKE_ROLE_ARN"),
            ("OidcProviderArn", provider_arn, "GitHub's OIDC provider the three roles trust"),
        ):
            CfnOutput(self, name, value=value, description=description)


def _smoke_test_statements(config: DeliveryConfig) -> list[iam.PolicyStatement]:
    """Read access to the deploy environments' stacks, batch workflow, ML pipelines and
    dashboards, by the names the platform gives them (stacks `<env>-*`, resources
    `ecommerce-<env>-*`), and the warehouse admin's Data API access."""

    def arns(service: str, resource: str) -> list[str]:
        """One ARN per deploy environment; `{env}` in `resource` is its name."""
        return [
            f"arn:{Aws.PARTITION}:{service}:{Aws.REGION}:{Aws.ACCOUNT_ID}:"
            + resource.format(env=env)
            for env in config.deploy_environments
        ]

    return [
        iam.PolicyStatement(
            actions=["cloudformation:DescribeStacks"],
            resources=arns("cloudformation", "stack/{env}-*/*"),
        ),
        iam.PolicyStatement(
            actions=["glue:GetWorkflow", "glue:GetWorkflowRuns"],
            resources=arns("glue", "workflow/ecommerce-{env}-*"),
        ),
        iam.PolicyStatement(
            actions=["sagemaker:DescribePipeline", "sagemaker:ListPipelineExecutions"],
            resources=arns("sagemaker", "pipeline/ecommerce-{env}-*"),
        ),
        iam.PolicyStatement(
            actions=["quicksight:DescribeDashboard"],
            resources=arns("quicksight", "dashboard/ecommerce-{env}-*"),
        ),
        # The Data API runs as the warehouse admin, whose secret Redshift creates and names
        # `redshift!<namespace or cluster>-<admin user>`, encrypted with the warehouse's key.
        iam.PolicyStatement(
            actions=["secretsmanager:GetSecretValue"],
            resources=arns("secretsmanager", "secret:redshift!ecommerce-{env}-*"),
        ),
        iam.PolicyStatement(
            actions=["kms:Decrypt"],
            resources=[f"arn:{Aws.PARTITION}:kms:{Aws.REGION}:{Aws.ACCOUNT_ID}:key/*"],
            conditions={
                "StringEquals": {"kms:ViaService": f"secretsmanager.{Aws.REGION}.amazonaws.com"}
            },
        ),
        # Serverless workgroup ARNs carry an id, not the name: every workgroup of the account.
        iam.PolicyStatement(
            actions=["redshift-data:ExecuteStatement"],
            resources=[
                f"arn:{Aws.PARTITION}:redshift-serverless:{Aws.REGION}:{Aws.ACCOUNT_ID}:"
                "workgroup/*",
                *arns("redshift", "cluster:ecommerce-{env}"),
            ],
        ),
        # Statement ids are not ARNs: the Data API scopes these to the caller's own statements.
        iam.PolicyStatement(
            actions=[
                "redshift-data:DescribeStatement",
                "redshift-data:GetStatementResult",
                "redshift-data:CancelStatement",
            ],
            resources=["*"],
        ),
    ]
