"""The synthesized cloud assembly as plain data, plus the few look-ups the infra tests share."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from cdk_app.config import read_cdk_context

REPO_ROOT = Path(__file__).resolve().parents[2]

# A third environment that exists only in tests: it exercises the other side of every switch
# (destroy_data, provisioned Redshift, two AZs, an alarm e-mail, other function and RDS
# monitoring sizes, QuickSight groups given as ARNs and an hourly refresh in another time
# zone) in the same single synth.
TEST_ENV = "ephemeral"
REAL_ENVS = ("dev", "staging", "prod")
# The deployment identity's stage (cdk_app/delivery.py), built in the same synth for a
# repository of the tests' own.
DELIVERY_ENV = "delivery"
GITHUB_REPOSITORY = "acme-shop/analytics-platform"
SHOP_ORIGIN = "https://shop.example.com"  # the web origin TEST_ENV lets post from browsers
# TEST_ENV's QuickSight groups, as full ARNs (prod names its own).
TEST_GROUPS = {
    role: f"arn:aws:quicksight:us-east-1:111122223333:group/default/{role}"
    for role in ("analysts", "admins")
}


def synth_context() -> dict[str, Any]:
    """Context for the test synth: cdk.json's environments + TEST_ENV and the delivery stage,
    bundling skipped."""
    environments = read_cdk_context()["environments"]
    ephemeral = {
        **environments["dev"],
        "destroy_data": True,
        "network": {"vpc_cidr": "10.60.0.0/16", "max_azs": 2},
        "warehouse": {"mode": "provisioned", "node_count": 1},
        "monitoring": {"alarm_email": "oncall@example.com"},
        "ingest": {**environments["dev"]["ingest"], "cors_allowed_origins": [SHOP_ORIGIN]},
        "oltp": {**environments["dev"]["oltp"], "monitoring_interval_seconds": 15},
        "functions": {"default_reserved_concurrency": 2, "dead_letter_retention_days": 4},
        "dashboards": {
            "enabled": True,
            "analysts_group": TEST_GROUPS["analysts"],
            "admins_group": TEST_GROUPS["admins"],
            "refresh": {"interval": "HOURLY", "time_zone": "Europe/Paris"},
        },
    }
    return {
        "environments": {**environments, TEST_ENV: ephemeral},
        "aws:cdk:bundling-stacks": [],
        "delivery_identity": "true",
        "github_repository": GITHUB_REPOSITORY,
    }


def run_app(context: dict[str, Any], outdir: Path | str, **env: str) -> subprocess.CompletedProcess:
    """The CDK entry point in a fresh process, given its context as the CDK CLI passes it."""
    return subprocess.run(
        [sys.executable, "-m", "cdk_app.app"],
        cwd=REPO_ROOT,
        env={
            **os.environ,
            "CDK_CONTEXT_JSON": json.dumps(context),
            "CDK_OUTDIR": str(outdir),
            **env,
        },
        capture_output=True,
        text=True,
        check=False,
    )


@dataclass(frozen=True)
class Assembly:
    outdir: Path
    synth_error: str | None

    def template(self, env: str, stack: str) -> dict[str, Any]:
        return self._templates[(env, stack)]

    @cached_property
    def _templates(self) -> dict[tuple[str, str], dict[str, Any]]:
        loaded = {}
        for path in sorted(self.outdir.glob("assembly-*/*.template.json")):
            env = path.parent.name.removeprefix("assembly-")
            template = json.loads(path.read_text())
            stack = _stack_of(template, env)
            loaded[(env, stack)] = template
        return loaded

    def templates(self, env: str | None = None) -> dict[tuple[str, str], dict[str, Any]]:
        return {key: t for key, t in self._templates.items() if env is None or key[0] == env}

    def template_files(self) -> list[Path]:
        return sorted(self.outdir.glob("assembly-*/*.template.json"))

    def validation_report(self) -> dict[str, Any]:
        return json.loads((self.outdir / "validation-report.json").read_text())


def _stack_of(template: dict[str, Any], env: str) -> str:
    """The stack's construct id, read from any resource's path metadata (env/Stack/...)."""
    for resource in template["Resources"].values():
        path = resource.get("Metadata", {}).get("aws:cdk:path")
        if path:
            return path.split("/")[1]
    raise AssertionError(f"no path metadata in a template of {env}")


def resources(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == resource_type
    }


def only(template: dict[str, Any], resource_type: str) -> dict[str, Any]:
    found = list(resources(template, resource_type).values())
    assert len(found) == 1, f"expected one {resource_type}, found {len(found)}"
    return found[0]


def construct_path(resource: dict[str, Any]) -> str:
    """`env/Stack/Construct` of a resource, without the trailing /Resource."""
    return resource["Metadata"]["aws:cdk:path"].removesuffix("/Resource")


def allow_statements(template: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(path of the policy, statement) for every Allow statement of every IAM policy."""
    found = []
    for resource in template["Resources"].values():
        documents = []
        if resource["Type"] in {"AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"}:
            documents.append(resource["Properties"]["PolicyDocument"])
        if resource["Type"] == "AWS::IAM::Role":
            documents += [p["PolicyDocument"] for p in resource["Properties"].get("Policies", [])]
        for document in documents:
            for statement in document["Statement"]:
                if statement["Effect"] == "Allow":
                    found.append((resource["Metadata"]["aws:cdk:path"], statement))
    return found


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
