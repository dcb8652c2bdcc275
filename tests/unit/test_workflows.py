"""The CI/CD workflows (.github/workflows): actionlint and zizmor find nothing (each accepted
finding is justified in place), and the delivery rules hold: actions pinned by commit, one
synth per environment of cdk.json, one deploy at a time per environment, prod behind its
GitHub environment, and role variables named as the delivery stack's outputs say."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from cdk_app.config import read_cdk_context

REPO_ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = REPO_ROOT / ".github" / "workflows"
# Installed beside the interpreter: by `make test` (actionlint) and the dev extra (zizmor).
TOOLS = Path(sys.executable).parent
PINNED = re.compile(r"^[\w.-]+/[\w.-]+@[0-9a-f]{40}$")


def _tool(name: str) -> str:
    path = TOOLS / name
    found = str(path) if path.exists() else shutil.which(name)
    assert found, f"{name} is not installed: run `make test` (or `make .venv/bin/{name}`)"
    return found


def _run(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(a) for a in args], cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )


def _zizmor_findings(*paths: Path) -> list[str]:
    result = _run(_tool("zizmor"), "--offline", "--persona", "pedantic", "--format", "json", *paths)
    assert result.returncode in (0, 11, 12, 13, 14), result.stderr[-2000:]
    return sorted(finding["ident"] for finding in json.loads(result.stdout))


def _workflow(name: str) -> dict[str, Any]:
    loaded = yaml.safe_load((WORKFLOWS / name).read_text())
    loaded["on"] = loaded.pop(True)  # YAML 1.1 reads the key `on` as true
    return loaded


def _steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def test_actionlint_finds_nothing():
    result = _run(_tool("actionlint"), "-no-color", *sorted(WORKFLOWS.glob("*.yml")))
    assert (result.returncode, result.stdout) == (0, "")


def test_zizmor_finds_nothing_even_pedantic():
    assert _zizmor_findings(WORKFLOWS) == []


def test_the_linters_do_flag_a_bad_workflow(tmp_path: Path):
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: pull_request\n"
        "jobs:\n"
        "  x:\n"
        "    runs-on: ubuntu-latest\n"
        "    steps:\n"
        "      - uses: actions/checkout@v4\n"
        '      - run: echo "${{ github.event.pull_request.title }}"\n'
    )
    assert "potentially untrusted" in _run(_tool("actionlint"), "-no-color", bad).stdout
    assert {"template-injection", "unpinned-uses", "artipacked"} <= set(_zizmor_findings(bad))


def test_every_action_is_pinned_by_commit_with_its_version_named():
    lines = [
        line.strip()
        for path in sorted(WORKFLOWS.glob("*.yml"))
        for line in path.read_text().splitlines()
        if line.strip().startswith(("uses:", "- uses:"))
    ]
    external = [line for line in lines if "./.github/" not in line]
    assert len(external) >= 15
    for line in external:
        reference, _, comment = line.removeprefix("- ").removeprefix("uses:").partition("#")
        assert PINNED.match(reference.strip()), line
        assert re.fullmatch(r" v\d+\.\d+\.\d+", comment), line
    # One version of each action everywhere.
    by_action: dict[str, set[str]] = {}
    for line in external:
        action, _, sha = line.split("uses:")[1].split("#")[0].strip().partition("@")
        by_action.setdefault(action, set()).add(sha)
    assert all(len(shas) == 1 for shas in by_action.values()), by_action


def test_pull_requests_synthesize_every_environment_and_keep_the_reports():
    workflow = _workflow("pull-request.yml")
    assert list(workflow["on"]) == ["pull_request"]  # never pull_request_target
    synth = workflow["jobs"]["synth"]
    assert synth["strategy"]["matrix"]["env"] == ["dev", "staging", "prod"]
    assert sorted(synth["strategy"]["matrix"]["env"]) == sorted(read_cdk_context()["environments"])
    (upload,) = [s for s in synth["steps"] if "upload-artifact" in s.get("uses", "")]
    assert upload["with"]["path"].split() == [
        "cdk.out/validation-report.json",
        "cdk.out/cfn-lint.json",
    ]
    assert upload["if"] == "${{ !cancelled() }}"  # kept when nag or cfn-lint fails the job


def test_the_diff_runs_only_where_the_role_is_configured_and_never_for_forks():
    diff = _workflow("pull-request.yml")["jobs"]["diff"]
    assert "vars.AWS_DIFF_ROLE_ARN != ''" in diff["if"]
    assert "github.event.pull_request.head.repo.full_name == github.repository" in diff["if"]
    assert diff["permissions"] == {"contents": "read", "id-token": "write"}
    run = diff["steps"][-1]["run"]
    assert "make --silent diff ENV=staging" in run
    assert '>> "$GITHUB_STEP_SUMMARY"' in run


def test_main_deploys_staging_and_prod_waits_for_its_environment():
    main = _workflow("main.yml")
    assert main["on"] == {"push": {"branches": ["main"]}}
    staging = main["jobs"]["staging"]
    assert (staging["needs"], staging["with"]) == ("test", {"environment": "staging"})
    prod = _workflow("prod.yml")
    assert prod["on"] == {"workflow_dispatch": None, "push": {"tags": ["v*"]}}
    assert prod["jobs"]["prod"]["with"] == {"environment": "prod"}
    for job in (staging, prod["jobs"]["prod"]):
        assert job["uses"] == "./.github/workflows/deploy.yml"


def test_a_deploy_holds_its_environment_and_smoke_tests_it():
    deploy = _workflow("deploy.yml")["jobs"]["deploy"]
    assert deploy["environment"] == "${{ inputs.environment }}"
    assert deploy["concurrency"] == {
        "group": "deploy-${{ inputs.environment }}",
        "cancel-in-progress": False,
    }
    runs = [step.get("run", "") for step in deploy["steps"]]
    deploy_at = runs.index('make deploy ENV="$DEPLOY_ENV" APPROVAL=never')
    smoke_at = next(i for i, run in enumerate(runs) if run.startswith(".venv/bin/ecom smoke"))
    assert deploy_at < smoke_at
    roles = [
        step["with"]["role-to-assume"]
        for step in deploy["steps"]
        if "configure-aws-credentials" in step.get("uses", "")
    ]
    assert roles == ["${{ vars.AWS_DEPLOY_ROLE_ARN }}", "${{ vars.AWS_SMOKE_ROLE_ARN }}"]


def test_workflows_grant_nothing_by_default_and_store_no_keys():
    for path in sorted(WORKFLOWS.glob("*.yml")):
        workflow = _workflow(path.name)
        assert workflow["permissions"] == {}, path.name
        text = path.read_text()
        assert "secrets." not in text, path.name
        assert "aws-access-key-id" not in text, path.name
        for step in _steps(workflow):
            if "actions/checkout" in step.get("uses", ""):
                assert step["with"]["persist-credentials"] is False


def test_role_variables_are_the_ones_the_delivery_stack_tells_admins_to_set():
    from stacks import delivery

    source = Path(delivery.__file__).read_text()
    used = set(
        re.findall(
            r"vars\.(AWS_\w+_ROLE_ARN)", "".join(p.read_text() for p in WORKFLOWS.glob("*.yml"))
        )
    )
    told = set(re.findall(r"repository variable (AWS_\w+_ROLE_ARN)", source))
    assert used == told == {"AWS_DEPLOY_ROLE_ARN", "AWS_DIFF_ROLE_ARN", "AWS_SMOKE_ROLE_ARN"}


@pytest.mark.parametrize("workflow", ["main.yml", "pull-request.yml"])
def test_the_test_job_runs_what_ci_runs(workflow: str):
    steps = _workflow(workflow)["jobs"]["test"]["steps"]
    assert steps[-1]["run"] == "bash .ci/run"
