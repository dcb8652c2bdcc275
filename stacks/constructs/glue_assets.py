"""The S3 assets of a Python Glue job, bundled locally (no Docker), hashed from their sources.

A job gets three objects: its entry script; the project packages it imports, zipped for
`--extra-py-files`; and its pinned third-party wheels as a "zip of wheels" for
`--additional-python-modules`, which Glue 5.0 installs without a package index, as a job in
a VPC without internet access needs. Hashes come from the sources and pins, as for the Lambda
assets, so templates are the same whether bundling ran or was skipped.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import AssetHashType, Aws, BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from stacks.constructs.python_lambda import (
    LAMBDA_RUNTIME,
    REPO_ROOT,
    LambdaSource,
    pip_target,
)

WHEELHOUSE = "wheelhouse"
_GLUE_PIP_TARGET = pip_target("3.11")  # Glue 5.0: CPython 3.11 on Amazon Linux 2023


@jsii.implements(ILocalBundling)
class _SourcesBundler:
    """Copies the project packages; their third-party wheels travel separately."""

    def __init__(self, source: LambdaSource) -> None:
        self._source = source

    def try_bundle(self, output_dir: str, *, image: DockerImage, **_options: Any) -> bool:
        self._source.copy_to(output_dir)
        return True


@jsii.implements(ILocalBundling)
class _WheelsBundler:
    """Downloads the pinned wheels for Glue 5.0's platform (CPython 3.11, x86_64 Linux)."""

    def __init__(self, requirements: Path) -> None:
        self._requirements = requirements

    def try_bundle(self, output_dir: str, *, image: DockerImage, **_options: Any) -> bool:
        subprocess.run(  # noqa: S603 this Python's pip, pinned requirements
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--disable-pip-version-check",
                "--only-binary=:all:",
                *_GLUE_PIP_TARGET,
                "--dest",
                str(Path(output_dir) / WHEELHOUSE),
                "--requirement",
                str(self._requirements),
            ],
            check=True,
        )
        shutil.copy2(self._requirements, Path(output_dir) / "requirements.txt")
        return True


@dataclass(frozen=True)
class GlueJobAssets:
    script: s3_assets.Asset
    packages: s3_assets.Asset
    wheels: s3_assets.Asset

    def command(self, kind: str) -> glue.CfnJob.JobCommandProperty:
        """Run the script as a Python job of `kind` ("glueetl" or "gluestreaming")."""
        return glue.CfnJob.JobCommandProperty(
            name=kind, python_version="3", script_location=self.script.s3_object_url
        )

    def default_arguments(self) -> dict[str, str]:
        """The job arguments every project job starts from: Python, with the packages zip and
        the wheels, and Glue's job metrics and continuous logs on."""
        return {
            "--job-language": "python",
            "--extra-py-files": self.packages.s3_object_url,
            "--additional-python-modules": self.wheels.s3_object_url,
            "--enable-metrics": "true",
            "--enable-continuous-cloudwatch-log": "true",
        }

    def grant_read(self, grantee: iam.IGrantable) -> None:
        """s3:GetObject on exactly these three objects."""
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["s3:GetObject"],
            resource_arns=[
                f"arn:{Aws.PARTITION}:s3:::{asset.s3_bucket_name}/{asset.s3_object_key}"
                for asset in (self.script, self.packages, self.wheels)
            ],
        )


# The tag Glue puts on the network interfaces it creates for a connection.
GLUE_TAG_KEY = "aws-glue-service-resource"


def glue_job_assets(
    scope: Construct, construct_id: str, script: str, source: LambdaSource
) -> GlueJobAssets:
    """Assets of the job whose entry script is `script` (relative to the repository root)
    and which imports the packages of `source` and the wheels pinned in its requirements."""
    bundling_image = LAMBDA_RUNTIME.bundling_image  # never pulled: bundling runs locally
    requirements = REPO_ROOT / source.requirements
    wheels_hash = hashlib.sha256(
        " ".join(_GLUE_PIP_TARGET).encode() + requirements.read_bytes()
    ).hexdigest()
    return GlueJobAssets(
        script=s3_assets.Asset(scope, f"{construct_id}Script", path=str(REPO_ROOT / script)),
        packages=s3_assets.Asset(
            scope,
            f"{construct_id}Packages",
            path=str(REPO_ROOT / source.paths[0]),
            asset_hash_type=AssetHashType.CUSTOM,
            asset_hash=source.fingerprint(),
            exclude=["__pycache__", "*.pyc"],
            bundling=BundlingOptions(image=bundling_image, local=_SourcesBundler(source)),
        ),
        wheels=s3_assets.Asset(
            scope,
            f"{construct_id}Wheels",
            path=str(requirements.parent),
            asset_hash_type=AssetHashType.CUSTOM,
            asset_hash=wheels_hash,
            exclude=["__pycache__", "*.pyc"],
            bundling=BundlingOptions(image=bundling_image, local=_WheelsBundler(requirements)),
        ),
    )


def glue_metrics_statement(*namespaces: str) -> iam.PolicyStatement:
    """Putting a job's metrics (Glue's own, and any namespace given): PutMetricData takes no
    resource ARN, so the namespace condition is what limits it."""
    return iam.PolicyStatement(
        actions=["cloudwatch:PutMetricData"],
        resources=["*"],
        conditions={"StringEquals": {"cloudwatch:namespace": ["Glue", *namespaces]}},
    )


def glue_connection_statements(connection_name: str, vpc: ec2.IVpc) -> list[iam.PolicyStatement]:
    """What a job role needs to run inside a Glue connection's VPC: read that one connection
    (and the catalog it lives in), and manage the network interfaces Glue creates there. The
    Describe calls take no resource ARN; creating and deleting interfaces is limited to `vpc`
    (its subnets, groups and interfaces), and tagging to the one tag key Glue sets, as AWS's
    AWSGlueServiceRole policy does."""
    ec2_arn = f"arn:{Aws.PARTITION}:ec2:{Aws.REGION}:{Aws.ACCOUNT_ID}"
    return [
        iam.PolicyStatement(
            actions=["glue:GetConnection"],
            resources=[
                f"arn:{Aws.PARTITION}:glue:{Aws.REGION}:{Aws.ACCOUNT_ID}:catalog",
                f"arn:{Aws.PARTITION}:glue:{Aws.REGION}:{Aws.ACCOUNT_ID}:connection/"
                f"{connection_name}",
            ],
        ),
        iam.PolicyStatement(
            actions=[
                "ec2:DescribeNetworkInterfaces",
                "ec2:DescribeSecurityGroups",
                "ec2:DescribeSubnets",
                "ec2:DescribeVpcAttribute",
                "ec2:DescribeVpcEndpoints",
                "ec2:DescribeRouteTables",
            ],
            resources=["*"],
        ),
        iam.PolicyStatement(
            actions=["ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface"],
            resources=[
                f"{ec2_arn}:{kind}/*" for kind in ("network-interface", "subnet", "security-group")
            ],
            conditions={"ArnEquals": {"ec2:Vpc": vpc.vpc_arn}},
        ),
        iam.PolicyStatement(
            actions=["ec2:CreateTags", "ec2:DeleteTags"],
            resources=[f"{ec2_arn}:{kind}/*" for kind in ("network-interface", "security-group")],
            conditions={"ForAllValues:StringEquals": {"aws:TagKeys": [GLUE_TAG_KEY]}},
        ),
    ]
