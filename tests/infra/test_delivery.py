"""The deployment identity (stacks/delivery.py): GitHub's OIDC provider and three roles whose
trust is this repository only, main and the deploy environments only (pull requests for the
read-only diff role), through sts:AssumeRoleWithWebIdentity with GitHub's audience only."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import App
from aws_cdk.assertions import Template
from synthesized import DELIVERY_ENV, GITHUB_REPOSITORY, Assembly, as_list, only, resources

from cdk_app.config import ConfigError, load_delivery_config, read_cdk_context
from cdk_app.delivery import DeliveryStage

pytestmark = pytest.mark.infra

ISSUER = "token.actions.githubusercontent.com"
PROVIDER_REF = {"Ref": "GithubOidcProviderD8241A88"}


def _identity(assembly: Assembly) -> dict[str, Any]:
    return assembly.template(DELIVERY_ENV, "Identity")


def _role(template: dict[str, Any], name: str) -> dict[str, Any]:
    (role,) = [
        r["Properties"]
        for r in resources(template, "AWS::IAM::Role").values()
        if r["Properties"]["RoleName"] == name
    ]
    return role


def _trust(subjects: list[str], provider: Any = PROVIDER_REF) -> dict[str, Any]:
    """The one trust statement every role must have, written out by hand."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Principal": {"Federated": provider},
                "Condition": {
                    "StringEquals": {
                        f"{ISSUER}:aud": "sts.amazonaws.com",
                        f"{ISSUER}:sub": subjects,
                    }
                },
            }
        ],
    }


def _policy_of(template: dict[str, Any], role_logical_prefix: str) -> list[dict[str, Any]]:
    (policy,) = [
        r["Properties"]["PolicyDocument"]["Statement"]
        for logical_id, r in resources(template, "AWS::IAM::Policy").items()
        if logical_id.startswith(f"{role_logical_prefix}DefaultPolicy")
    ]
    return policy


def _bootstrap_role(kind: str) -> dict[str, Any]:
    """arn:<partition>:iam::<account>:role/cdk-hnb659fds-<kind>-<account>-<region>"""
    return {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":iam::",
                {"Ref": "AWS::AccountId"},
                ":role/cdk-hnb659fds-" + kind + "-",
                {"Ref": "AWS::AccountId"},
                "-",
                {"Ref": "AWS::Region"},
            ],
        ]
    }


def test_the_oidc_provider_is_githubs_with_the_sts_audience(assembly: Assembly):
    provider = only(_identity(assembly), "AWS::IAM::OIDCProvider")["Properties"]
    assert provider["Url"] == f"https://{ISSUER}"
    assert provider["ClientIdList"] == ["sts.amazonaws.com"]


def test_the_deploy_role_trusts_only_main_and_the_deploy_environments(assembly: Assembly):
    role = _role(_identity(assembly), "ecommerce-github-deploy")
    assert role["AssumeRolePolicyDocument"] == _trust(
        [
            "repo:acme-shop/analytics-platform:ref:refs/heads/main",
            "repo:acme-shop/analytics-platform:environment:staging",
            "repo:acme-shop/analytics-platform:environment:prod",
        ]
    )


def test_the_deploy_role_may_only_assume_the_cdk_bootstrap_roles(assembly: Assembly):
    statements = _policy_of(_identity(assembly), "DeployRole")
    assert statements == [
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": _bootstrap_role("*")}
    ]


def test_the_diff_role_trusts_pull_requests_and_may_only_assume_the_lookup_role(
    assembly: Assembly,
):
    template = _identity(assembly)
    role = _role(template, "ecommerce-github-diff")
    assert role["AssumeRolePolicyDocument"] == _trust(
        ["repo:acme-shop/analytics-platform:pull_request"]
    )
    assert _policy_of(template, "DiffRole") == [
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": _bootstrap_role("lookup-role")}
    ]


def test_the_smoke_test_role_trusts_the_environments_and_only_reads(assembly: Assembly):
    template = _identity(assembly)
    role = _role(template, "ecommerce-github-smoke")
    assert role["AssumeRolePolicyDocument"] == _trust(
        [
            "repo:acme-shop/analytics-platform:environment:staging",
            "repo:acme-shop/analytics-platform:environment:prod",
        ]
    )
    actions = sorted(
        action
        for statement in _policy_of(template, "SmokeTestRole")
        for action in as_list(statement["Action"])
    )
    assert actions == [
        "cloudformation:DescribeStacks",
        "glue:GetWorkflow",
        "glue:GetWorkflowRuns",
        "kms:Decrypt",
        "quicksight:DescribeDashboard",
        "redshift-data:CancelStatement",
        "redshift-data:DescribeStatement",
        "redshift-data:ExecuteStatement",
        "redshift-data:GetStatementResult",
        "sagemaker:DescribePipeline",
        "sagemaker:ListPipelineExecutions",
        "secretsmanager:GetSecretValue",
    ]


def test_outputs_name_the_repository_variables(assembly: Assembly):
    outputs = _identity(assembly)["Outputs"]
    assert {name: o["Description"] for name, o in outputs.items()} == {
        "DeployRoleArn": "set as the repository variable AWS_DEPLOY_ROLE_ARN",
        "DiffRoleArn": "set as the repository variable AWS_DIFF_ROLE_ARN",
        "SmokeRoleArn": "set as the repository variable AWS_SMOKE_ROLE_ARN",
        "OidcProviderArn": "GitHub's OIDC provider the three roles trust",
    }


def test_an_account_with_a_provider_already_reuses_it():
    context = {
        **read_cdk_context(),
        "github_repository": "other-org/fork",
        "delivery": {"deploy_environments": ["prod"], "create_oidc_provider": False},
    }
    stage = DeliveryStage(App(), config=load_delivery_config(context))
    template = Template.from_stack(stage.identity).to_json()
    assert resources(template, "AWS::IAM::OIDCProvider") == {}
    existing = {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":iam::",
                {"Ref": "AWS::AccountId"},
                f":oidc-provider/{ISSUER}",
            ],
        ]
    }
    role = _role(template, "ecommerce-github-deploy")
    assert role["AssumeRolePolicyDocument"] == _trust(
        ["repo:other-org/fork:ref:refs/heads/main", "repo:other-org/fork:environment:prod"],
        provider=existing,
    )


@pytest.mark.parametrize(
    ("delivery", "override", "message"),
    [
        ({}, None, r"delivery\.github_repository is not set: pass -c github_repository="),
        ({}, "no-slash", r"invalid delivery config: github_repository: String should match"),
        ({}, "acme/shop;rm", r"github_repository: String should match"),
        (
            {"deploy_environments": ["staging", "qa"]},
            GITHUB_REPOSITORY,
            r"deploy_environments: \['qa'\] are not environments \(known: dev, prod, staging\)",
        ),
        (
            {"deploy_environments": []},
            GITHUB_REPOSITORY,
            r"deploy_environments: Tuple should have at least 1 item",
        ),
        (
            {"create_oidc_provder": False},
            GITHUB_REPOSITORY,
            r"create_oidc_provder: Extra inputs are not permitted",
        ),
    ],
)
def test_bad_delivery_config_names_the_key(delivery: dict, override: str | None, message: str):
    context = {**read_cdk_context(), "delivery": delivery}
    if override:
        context["github_repository"] = override
    with pytest.raises(ConfigError, match=message):
        load_delivery_config(context)


def test_cdk_json_leaves_the_repository_to_the_admin():
    # A repository named in cdk.json would be trusted by every fork that deploys unchanged.
    assert read_cdk_context()["delivery"]["github_repository"] is None


@pytest.mark.parametrize(
    ("context", "requested"),
    [({}, False), ({"delivery_identity": "false"}, False), ({"delivery_identity": "true"}, True),
     ({"delivery_identity": True}, True), ({"delivery_identity": "TRUE"}, True)],
)  # fmt: skip
def test_only_the_context_flag_adds_the_delivery_stage(context: dict, requested: bool):
    from cdk_app.app import delivery_stage_requested

    assert delivery_stage_requested(App(context=context)) is requested
