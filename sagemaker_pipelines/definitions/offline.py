"""Building pipeline definitions without AWS: no credentials, no network, nothing read from the
building machine. The stock session asks S3 for a default bucket and reads SDK defaults from
the user's config files; `OfflineSession` names the artifacts placeholder as its bucket and
uses an empty config. While `offline()` is active, the SDK's telemetry request (sent when a
step's job arguments are built) does nothing, and boto3's default session, from which
estimators create a client, has static dummy credentials, so its credential chain never
queries the instance metadata service."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock

import boto3
from sagemaker.workflow.pipeline_context import PipelineSession

from sagemaker_pipelines.definitions import placeholders

_TELEMETRY_REQUEST = "sagemaker.telemetry.telemetry_logging._send_telemetry_request"


def _boto_session() -> boto3.Session:
    return boto3.Session(
        region_name=placeholders.REGION,
        aws_access_key_id="offline",
        aws_secret_access_key="offline",  # noqa: S106 a placeholder: nothing is signed offline
    )


class OfflineSession(PipelineSession):
    """A pipeline session whose default bucket is the artifacts placeholder."""

    def __init__(self) -> None:
        super().__init__(
            boto_session=_boto_session(),
            default_bucket=placeholders.ARTIFACTS_BUCKET,
            # Any non-empty config stops the session from reading the machine's files...
            sagemaker_config={"SchemaVersion": "1.0"},
        )
        # ...but the SDK validates a non-empty config again on every lookup (~0.2 s each).
        self.sagemaker_config = {}

    def default_bucket(self) -> str:
        return placeholders.ARTIFACTS_BUCKET


@contextmanager
def offline() -> Iterator[None]:
    """No telemetry, and an offline boto3 default session, while the definitions are built."""
    previous = boto3.DEFAULT_SESSION
    boto3.DEFAULT_SESSION = _boto_session()
    try:
        with mock.patch(_TELEMETRY_REQUEST, return_value=None):
            yield
    finally:
        boto3.DEFAULT_SESSION = previous
