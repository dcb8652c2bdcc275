"""The model registries: the local folder, and SageMaker's through botocore's Stubber (no
network, no credentials)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber

from sagemaker_pipelines.registry import (
    APPROVED,
    PENDING,
    LocalRegistry,
    RegistryError,
    SageMakerRegistry,
)

GROUP = "ecommerce-dev-churn"
CREATED = datetime(2025, 7, 1, 6, 0, tzinfo=UTC)


def test_local_registry_numbers_versions_and_approves(tmp_path: Path) -> None:
    artifact = tmp_path / "model.tar.gz"
    artifact.write_bytes(b"bundle")
    registry = LocalRegistry(tmp_path / "registry")
    assert registry.versions(GROUP) == []
    first = registry.register(GROUP, artifact, {"auc": 0.7}, created_at=CREATED)
    second = registry.register(GROUP, artifact, {"auc": 0.8})
    assert (first.version, second.version) == ("1", "2")
    assert first.status == PENDING
    folder = tmp_path / "registry" / GROUP / "1"
    assert Path(first.artifact) == folder / "model.tar.gz"
    assert (folder / "model.tar.gz").read_bytes() == b"bundle"
    assert json.loads((folder / "metadata.json").read_text()) == {
        "status": PENDING,
        "metrics": {"auc": 0.7},
        "created_at": "2025-07-01T06:00:00+00:00",
    }
    with pytest.raises(RegistryError, match="no version with status Approved"):
        registry.latest_approved(GROUP)
    registry.approve(GROUP, "1")
    assert registry.latest_approved(GROUP).version == "1"
    assert registry.latest(GROUP, PENDING).version == "2"
    registry.approve(GROUP, "2")
    assert registry.latest_approved(GROUP).version == "2"
    with pytest.raises(RegistryError, match="has no version 9"):
        registry.approve(GROUP, "9")


ARN = f"arn:aws:sagemaker:eu-west-1:123456789012:model-package/{GROUP}/3"
DESCRIBED = {
    "ModelPackageName": GROUP,
    "ModelPackageArn": ARN,
    "ModelPackageVersion": 3,
    "CreationTime": CREATED,
    "ModelPackageStatus": "Completed",
    "ModelPackageStatusDetails": {"ValidationStatuses": [], "ImageScanStatuses": []},
    "ModelApprovalStatus": APPROVED,
    "InferenceSpecification": {
        "Containers": [
            {"Image": "image", "ModelDataUrl": "s3://models/training/abc/output/model.tar.gz"}
        ],
        "SupportedContentTypes": ["application/x-parquet"],
        "SupportedResponseMIMETypes": ["application/x-parquet"],
    },
}


def _client():  # type: ignore[no-untyped-def]
    return boto3.client(
        "sagemaker",
        region_name="eu-west-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def test_sagemaker_registry_finds_the_newest_approved_package() -> None:
    client = _client()
    with Stubber(client) as stub:
        stub.add_response(
            "list_model_packages",
            {
                "ModelPackageSummaryList": [
                    {
                        "ModelPackageArn": ARN,
                        "CreationTime": CREATED,
                        "ModelPackageStatus": "Completed",
                    }
                ]
            },
            {
                "ModelPackageGroupName": GROUP,
                "ModelApprovalStatus": APPROVED,
                "SortBy": "CreationTime",
                "SortOrder": "Descending",
                "MaxResults": 1,
            },
        )
        stub.add_response("describe_model_package", DESCRIBED, {"ModelPackageName": ARN})
        version = SageMakerRegistry(client).latest_approved(GROUP)
        stub.assert_no_pending_responses()
    assert version.version == "3"
    assert version.artifact == "s3://models/training/abc/output/model.tar.gz"
    assert version.status == APPROVED


def test_sagemaker_registry_says_when_nothing_is_approved() -> None:
    client = _client()
    with Stubber(client) as stub:
        stub.add_response("list_model_packages", {"ModelPackageSummaryList": []})
        with pytest.raises(RegistryError, match=f"{GROUP} has no Approved model package"):
            SageMakerRegistry(client).latest_approved(GROUP)


def test_sagemaker_registry_approves_a_version_by_number() -> None:
    client = _client()
    with Stubber(client) as stub:
        stub.add_response(
            "list_model_packages",
            {
                "ModelPackageSummaryList": [
                    {
                        "ModelPackageArn": ARN,
                        "ModelPackageVersion": 3,
                        "CreationTime": CREATED,
                        "ModelPackageStatus": "Completed",
                    }
                ]
            },
            {"ModelPackageGroupName": GROUP},
        )
        stub.add_response(
            "update_model_package",
            {"ModelPackageArn": ARN},
            {"ModelPackageArn": ARN, "ModelApprovalStatus": APPROVED},
        )
        stub.add_response("describe_model_package", DESCRIBED, {"ModelPackageName": ARN})
        assert SageMakerRegistry(client).approve(GROUP, "3").status == APPROVED
        stub.assert_no_pending_responses()
