"""Every module a shipped asset imports is shipped with it, pinned in its requirements, or
provided by the runtime it runs on: a missing wheel shows here, not as an ImportError in AWS."""

from __future__ import annotations

import ast
import re
import sys
from importlib.metadata import PackageNotFoundError, packages_distributions, requires
from pathlib import Path

import pytest

from stacks.constructs.migrator import DB_MIGRATOR_SOURCE
from stacks.constructs.python_lambda import REPO_ROOT, LambdaSource
from stacks.constructs.raw_stream_job import RAW_STREAM_SOURCE
from stacks.constructs.recommendations_api import RECOMMENDATIONS_SOURCE
from stacks.constructs.stream_processor import STREAM_PROCESSOR_SOURCE
from stacks.constructs.streaming_ingestion import REDSHIFT_SQL_SOURCE
from stacks.etl import ETL_SOURCE
from stacks.ingest import COLLECTOR_SOURCE
from stacks.streaming import KAFKA_TOPICS_SOURCE

# What the runtimes bring: the Lambda Python runtime ships the AWS SDK; Glue 5.0 ships Spark,
# its Glue library and the AWS SDK.
LAMBDA_RUNTIME_MODULES = {"boto3", "botocore"}
GLUE_RUNTIME_MODULES = {"boto3", "botocore", "pyspark", "py4j", "awsglue"}

SOURCES = {
    "collector": (COLLECTOR_SOURCE, LAMBDA_RUNTIME_MODULES),
    "stream_processor": (STREAM_PROCESSOR_SOURCE, LAMBDA_RUNTIME_MODULES),
    "recommendations": (RECOMMENDATIONS_SOURCE, LAMBDA_RUNTIME_MODULES),
    "db_migrator": (DB_MIGRATOR_SOURCE, LAMBDA_RUNTIME_MODULES),
    "kafka_topics": (KAFKA_TOPICS_SOURCE, LAMBDA_RUNTIME_MODULES),
    "redshift_sql": (REDSHIFT_SQL_SOURCE, LAMBDA_RUNTIME_MODULES),
    "etl_jobs": (ETL_SOURCE, GLUE_RUNTIME_MODULES),
    "raw_stream_job": (RAW_STREAM_SOURCE, GLUE_RUNTIME_MODULES),
}


def imported_modules(path: Path) -> set[str]:
    """Top-level names of every absolute import in a file, wherever it sits in the file."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def pinned_modules(requirements: Path) -> set[str]:
    """Import names of the pinned distributions and of what they depend on (as installed here)."""
    by_distribution: dict[str, set[str]] = {}
    for module, distributions in packages_distributions().items():
        for distribution in distributions:
            by_distribution.setdefault(_normalized(distribution), set()).add(module)
    pinned = set()
    for line in requirements.read_text().splitlines():
        match = re.match(r"\s*([A-Za-z0-9_.-]+)", line.split("#")[0])
        if match:
            pinned |= _with_dependencies(_normalized(match.group(1)), set())
    return {module for name in pinned for module in by_distribution.get(name, ())}


def _with_dependencies(distribution: str, seen: set[str]) -> set[str]:
    if distribution in seen:
        return seen
    seen.add(distribution)
    try:
        requirements = requires(distribution) or []
    except PackageNotFoundError:
        return seen
    for requirement in requirements:
        if "extra ==" in requirement:
            continue
        name = re.match(r"[A-Za-z0-9_.-]+", requirement)
        if name:
            _with_dependencies(_normalized(name.group(0)), seen)
    return seen


def _normalized(distribution: str) -> str:
    return re.sub(r"[-_.]+", "-", distribution).lower()


def shipped_modules(source: LambdaSource) -> set[str]:
    return {path.relative_to(REPO_ROOT).parts[0] for path in source.files()}


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_every_import_of_an_asset_is_available_where_it_runs(name: str) -> None:
    source, runtime = SOURCES[name]
    available = (
        set(sys.stdlib_module_names)
        | shipped_modules(source)
        | pinned_modules(REPO_ROOT / source.requirements)
        | runtime
    )
    missing = {
        f"{module} (in {path.relative_to(REPO_ROOT)})"
        for path in source.files()
        if path.suffix == ".py"
        for module in imported_modules(path) - available
    }
    assert sorted(missing) == []
