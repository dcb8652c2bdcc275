"""Python Lambda code assets built without Docker, with a hash taken from their sources.

The asset is the project's own packages (thin handler + the shared code it calls) plus pinned
wheels fetched by pip for the Lambda platform (manylinux x86_64, CPython 3.12). Bundling runs
locally with pip, so neither synth nor deploy needs a Docker engine. The asset hash is computed
from the source files and the pinned requirements, never from the bundle: templates stay
byte-identical whether bundling ran or was skipped (tests skip it with the
"aws:cdk:bundling-stacks" context set to []).

`python_function` is every project function: that asset on the one runtime, with its own log
group, an encrypted dead-letter queue and reserved concurrency, so runtime, bundling, log
retention, failed asynchronous invocations and concurrency limits are decided here once.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, Duration, ILocalBundling, Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

if TYPE_CHECKING:
    from stacks.platform_stack import PlatformStack

REPO_ROOT = Path(__file__).resolve().parents[2]
# python3.12 runs on Amazon Linux 2023 (glibc 2.34), which takes manylinux_2_28 wheels such as
# confluent-kafka's; python3.11 runs on Amazon Linux 2 (glibc 2.26), which does not.
LAMBDA_RUNTIME = lambda_.Runtime.PYTHON_3_12


def pip_target(python_version: str) -> tuple[str, ...]:
    """pip flags selecting wheels for Amazon Linux 2023 on x86_64 (glibc 2.34: manylinux_2_28
    and older) and one CPython version: the Lambda runtime's, or Glue 5.0's."""
    return (
        "--platform", "manylinux_2_28_x86_64", "--platform", "manylinux2014_x86_64",
        "--implementation", "cp", "--python-version", python_version,
    )  # fmt: skip


_LAMBDA_PIP_TARGET = pip_target("3.12")
# The construct id of a function's dead-letter queue is its name followed by this.
DEAD_LETTERS_SUFFIX = "DeadLetters"
_SKIPPED_PARTS = {"__pycache__"}


def shipped_files(paths: Sequence[str], excluded: tuple[str, ...] = ()) -> list[Path]:
    """The files an asset ships from `paths` (repository-relative files or folders), in a
    stable order: no caches or compiled files, nothing under an `excluded` prefix."""
    found: set[Path] = set()
    for relative in paths:
        path = REPO_ROOT / relative
        found.update([path] if path.is_file() else path.rglob("*"))
    return sorted(
        path
        for path in found
        if path.is_file()
        and path.suffix != ".pyc"
        and not _SKIPPED_PARTS & set(path.relative_to(REPO_ROOT).parts)
        and not path.relative_to(REPO_ROOT).as_posix().startswith(excluded)
    )


def files_fingerprint(files: Sequence[Path], salt: bytes = b"") -> str:
    """sha256 over `salt` and each file's repository path and bytes: an asset hash that moves
    only when what is shipped does."""
    digest = hashlib.sha256(salt)
    for path in files:
        digest.update(path.relative_to(REPO_ROOT).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


@dataclass(frozen=True)
class LambdaSource:
    """The project paths one function ships (relative to the repository root) and its wheels."""

    paths: tuple[str, ...]
    requirements: str

    def files(self) -> list[Path]:
        """Every shipped source file, in a stable order."""
        return shipped_files(self.paths)

    def copy_to(self, output_dir: str) -> None:
        """Copy the shipped files, keeping their paths relative to the repository root."""
        for path in self.files():
            target = Path(output_dir) / path.relative_to(REPO_ROOT)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)

    def fingerprint(self) -> str:
        """sha256 over the shipped files, the pinned requirements and the target platform."""
        return files_fingerprint(
            [*self.files(), REPO_ROOT / self.requirements],
            salt=" ".join(_LAMBDA_PIP_TARGET).encode(),
        )


@jsii.implements(ILocalBundling)
class _PipBundler:
    """Installs the pinned wheels for the Lambda platform, then copies the project sources."""

    def __init__(self, source: LambdaSource) -> None:
        self._source = source

    def try_bundle(self, output_dir: str, *, image: DockerImage, **_options: Any) -> bool:
        subprocess.run(  # noqa: S603 this Python's pip, pinned requirements
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--no-compile",
                "--only-binary=:all:",
                *_LAMBDA_PIP_TARGET,
                "--target",
                output_dir,
                "--requirement",
                str(REPO_ROOT / self._source.requirements),
            ],
            check=True,
        )
        self._source.copy_to(output_dir)
        return True


def python_lambda_code(source: LambdaSource) -> lambda_.Code:
    """Lambda code for `source`; the staged directory is the first path when bundling is skipped."""
    return lambda_.Code.from_asset(
        str(REPO_ROOT / source.paths[0]),
        asset_hash_type=AssetHashType.CUSTOM,
        asset_hash=source.fingerprint(),
        exclude=["__pycache__", "*.pyc"],
        bundling=BundlingOptions(image=LAMBDA_RUNTIME.bundling_image, local=_PipBundler(source)),
    )


def python_function(
    scope: Construct,
    name: str,
    *,
    source: LambdaSource,
    handler: str,
    description: str,
    timeout: Duration,
    memory_size: int,
    reserved_concurrency: int | None = None,
    **options: Any,
) -> lambda_.Function:
    """A project function (`<name>Function`): `handler` of `source` on LAMBDA_RUNTIME, bundled
    without Docker, its logs kept a month in a group of its own (`<name>Logs`), asynchronous
    invocations that fail every retry kept on an encrypted queue (`<name>DeadLetters`), and
    `reserved_concurrency` (config functions.default_reserved_concurrency when None) reserved
    for it, which also caps it. `options` are further lambda_.Function properties: VPC
    placement, environment."""
    functions = cast("PlatformStack", Stack.of(scope)).config.functions
    log_group = logs.LogGroup(scope, f"{name}Logs", retention=logs.RetentionDays.ONE_MONTH)
    dead_letters = sqs.Queue(
        scope,
        f"{name}{DEAD_LETTERS_SUFFIX}",
        encryption=sqs.QueueEncryption.KMS_MANAGED,
        enforce_ssl=True,
        retention_period=Duration.days(functions.dead_letter_retention_days),
    )
    return lambda_.Function(
        scope,
        f"{name}Function",
        description=description,
        runtime=LAMBDA_RUNTIME,
        handler=handler,
        code=python_lambda_code(source),
        timeout=timeout,
        memory_size=memory_size,
        log_group=log_group,
        dead_letter_queue=dead_letters,
        reserved_concurrent_executions=(
            functions.default_reserved_concurrency
            if reserved_concurrency is None
            else reserved_concurrency
        ),
        **options,
    )
