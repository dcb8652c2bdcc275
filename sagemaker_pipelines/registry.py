"""Model registries: where training registers a bundle and scoring finds the approved one.

LocalRegistry keeps versions in a folder (<root>/<group>/<version>/model.tar.gz beside a
metadata.json of status, metrics and created_at) for one machine. SageMakerRegistry reads the
SageMaker Model Registry for the cloud scoring step; there the training pipeline's register
step creates the packages, so it only finds and approves them. boto3 is imported by the
caller (the scoring image ships it), never here.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

PENDING = "PendingManualApproval"
APPROVED = "Approved"
METADATA_FILE = "metadata.json"
ARTIFACT_FILE = "model.tar.gz"


class RegistryError(LookupError):
    """No model version matches what was asked for."""


@dataclass(frozen=True)
class ModelVersion:
    """One registered version: artifact is a local path or an s3:// URL of model.tar.gz."""

    group: str
    version: str
    artifact: str
    status: str
    created_at: str = ""
    metrics: dict[str, Any] = field(default_factory=dict)


class LocalRegistry:
    """Versions numbered 1, 2, ... per group, in a folder."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def versions(self, group: str) -> list[ModelVersion]:
        """Every version of `group`, oldest first."""
        folder = self.root / group
        if not folder.is_dir():
            return []
        numbered = sorted(
            (path for path in folder.iterdir() if path.name.isdigit()), key=lambda p: int(p.name)
        )
        return [self._read(group, path) for path in numbered]

    def register(
        self,
        group: str,
        artifact: Path,
        metrics: dict[str, Any],
        status: str = PENDING,
        created_at: datetime | None = None,
    ) -> ModelVersion:
        """Copy `artifact` (a model.tar.gz) in as the group's next version."""
        existing = self.versions(group)
        version = str(int(existing[-1].version) + 1 if existing else 1)
        folder = self.root / group / version
        folder.mkdir(parents=True)
        shutil.copyfile(artifact, folder / ARTIFACT_FILE)
        stamp = (created_at or datetime.now(timezone.utc)).isoformat()
        self._write(folder, {"status": status, "metrics": metrics, "created_at": stamp})
        return self._read(group, folder)

    def approve(self, group: str, version: str) -> ModelVersion:
        folder = self.root / group / version
        if not (folder / METADATA_FILE).exists():
            raise RegistryError(f"{group} has no version {version}")
        metadata = json.loads((folder / METADATA_FILE).read_text())
        self._write(folder, metadata | {"status": APPROVED})
        return self._read(group, folder)

    def latest(self, group: str, status: str) -> ModelVersion:
        """The newest version of `group` with `status`."""
        for version in reversed(self.versions(group)):
            if version.status == status:
                return version
        raise RegistryError(f"{group} has no version with status {status}")

    def latest_approved(self, group: str) -> ModelVersion:
        return self.latest(group, APPROVED)

    @staticmethod
    def _write(folder: Path, metadata: dict[str, Any]) -> None:
        (folder / METADATA_FILE).write_text(json.dumps(metadata, indent=2) + "\n")

    @staticmethod
    def _read(group: str, folder: Path) -> ModelVersion:
        metadata = json.loads((folder / METADATA_FILE).read_text())
        return ModelVersion(
            group=group,
            version=folder.name,
            artifact=str(folder / ARTIFACT_FILE),
            status=metadata["status"],
            created_at=metadata["created_at"],
            metrics=metadata["metrics"],
        )


class SageMakerRegistry:
    """The SageMaker Model Registry through a boto3 `sagemaker` client."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def latest_approved(self, group: str) -> ModelVersion:
        listed = self.client.list_model_packages(
            ModelPackageGroupName=group,
            ModelApprovalStatus=APPROVED,
            SortBy="CreationTime",
            SortOrder="Descending",
            MaxResults=1,
        )["ModelPackageSummaryList"]
        if not listed:
            raise RegistryError(f"{group} has no Approved model package")
        return self._describe(group, listed[0]["ModelPackageArn"])

    def approve(self, group: str, version: str) -> ModelVersion:
        """Approve the package of `group` with version number `version` (or its ARN)."""
        arn = version if version.startswith("arn:") else self._arn(group, version)
        self.client.update_model_package(ModelPackageArn=arn, ModelApprovalStatus=APPROVED)
        return self._describe(group, arn)

    def _arn(self, group: str, version: str) -> str:
        pages = self.client.get_paginator("list_model_packages").paginate(
            ModelPackageGroupName=group
        )
        for page in pages:
            for summary in page["ModelPackageSummaryList"]:
                if str(summary.get("ModelPackageVersion")) == version:
                    return summary["ModelPackageArn"]
        raise RegistryError(f"{group} has no version {version}")

    def _describe(self, group: str, arn: str) -> ModelVersion:
        package = self.client.describe_model_package(ModelPackageName=arn)
        return ModelVersion(
            group=group,
            version=str(package["ModelPackageVersion"]),
            artifact=package["InferenceSpecification"]["Containers"][0]["ModelDataUrl"],
            status=package["ModelApprovalStatus"],
            created_at=package["CreationTime"].isoformat(),
        )
