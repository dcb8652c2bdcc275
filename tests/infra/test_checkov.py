"""checkov over every synthesized template: a second, independent security scanner next to
cdk-nag. A finding fails the test unless stacks/nag_acknowledgements.py records its reason
(rule CKV_...), and a recorded reason fails it once its finding is gone.

checkov pins boto3 below the project's range, so it lives in a virtualenv of its own that
`make test`/`make test-infra` create (.make/checkov; CHECKOV=path overrides).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from synthesized import REAL_ENVS, REPO_ROOT, TEST_ENV, Assembly, synth_context

from cdk_app.config import load_config
from stacks.nag_acknowledgements import platform_acknowledgements

pytestmark = pytest.mark.infra

CHECKOV = Path(os.environ.get("CHECKOV", REPO_ROOT / ".make/checkov/bin/checkov"))
ENVS = (*REAL_ENVS, TEST_ENV)

# (env, construct path below the stage, check id) of one finding.
Finding = tuple[str, str, str]


def _scan(files: list[Path]) -> list[dict[str, Any]]:
    """checkov's results (failed and skipped checks) over CloudFormation `files`, offline."""
    if not CHECKOV.exists():
        pytest.fail(f"checkov not found at {CHECKOV}: run `make test-infra` once to install it")
    arguments = [str(CHECKOV), "--framework", "cloudformation", "--output", "json", "--compact"]
    arguments += ["--skip-download", *(f"--file={file}" for file in files)]
    completed = subprocess.run(arguments, capture_output=True, text=True, check=False)
    # checkov exits 1 when a check fails; anything else is checkov itself failing.
    assert completed.returncode in (0, 1), completed.stderr[-2000:]
    reports = json.loads(completed.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    results = []
    for report in reports:
        assert not report["results"].get("parsing_errors"), report["results"]["parsing_errors"]
        results += report["results"]["failed_checks"] + report["results"].get("skipped_checks", [])
    return results


def _findings(results: list[dict[str, Any]], paths: dict[tuple[str, str], str], kind: str):
    """(env, construct path, check id) of every result of `kind` (FAILED or SKIPPED)."""
    found = set()
    for result in results:
        if result["check_result"]["result"] != kind:
            continue
        logical_id = result["resource"].split(".", 1)[1]
        path = paths[(Path(result["file_abs_path"]).name, logical_id)]
        env, _, below_stage = path.partition("/")
        found.add((env, below_stage, result["check_id"]))
    return found


def _construct_paths(files: list[Path]) -> dict[tuple[str, str], str]:
    """(template file name, logical id) -> construct path, e.g. dev/Lake/AccessLogsBucket."""
    paths = {}
    for file in files:
        for logical_id, resource in json.loads(file.read_text())["Resources"].items():
            path = resource.get("Metadata", {}).get("aws:cdk:path")
            if path:
                paths[(file.name, logical_id)] = path.removesuffix("/Resource")
    return paths


@pytest.fixture(scope="module")
def scans(assembly: Assembly, tmp_path_factory: pytest.TempPathFactory):
    """Two scans: the templates as synthesized, and copies without the checkov metadata (what
    each finding would be if nothing were acknowledged)."""
    files = assembly.template_files()
    bare_dir = tmp_path_factory.mktemp("bare-templates")
    bare = []
    for file in files:
        template = json.loads(file.read_text())
        for resource in template["Resources"].values():
            resource.get("Metadata", {}).pop("checkov", None)
        copy = bare_dir / f"{file.parent.name}-{file.name}"
        copy.write_text(json.dumps(template))
        bare.append(copy)
    as_synthesized = _scan(files)
    without_acknowledgements = _scan(bare)
    return (
        _findings(as_synthesized, _construct_paths(files), "FAILED"),
        _findings(as_synthesized, _construct_paths(files), "SKIPPED"),
        _findings(without_acknowledgements, _construct_paths(bare), "FAILED"),
    )


def _acknowledged() -> dict[Finding, str]:
    return {
        (env, ack.path.removesuffix("/Resource"), ack.rule): ack.reason
        for env in ENVS
        for ack in platform_acknowledgements(load_config(env, synth_context()))
        if ack.is_checkov
    }


def test_no_unexplained_finding(scans):
    failed, _, _ = scans
    assert sorted(failed) == []


def test_each_acknowledgement_silences_a_real_finding(scans):
    _, skipped, bare_failures = scans
    acknowledged = set(_acknowledged())
    # Without the metadata, exactly the acknowledged findings appear ...
    assert sorted(bare_failures - acknowledged) == []
    assert sorted(acknowledged - bare_failures) == []
    # ... and with it, checkov reads each one as skipped on its resource.
    assert skipped == acknowledged


def test_reasons_sit_next_to_their_resources(assembly: Assembly):
    """The skip comments in the templates are the recorded reasons, word for word."""
    acknowledged = _acknowledged()
    in_templates = {}
    for (env, _), template in assembly.templates().items():
        for resource in template["Resources"].values():
            metadata = resource.get("Metadata", {})
            path = metadata.get("aws:cdk:path", "").removesuffix("/Resource")
            for skip in metadata.get("checkov", {}).get("skip", []):
                in_templates[(env, path.partition("/")[2], skip["id"])] = skip["comment"]
    assert in_templates == acknowledged
