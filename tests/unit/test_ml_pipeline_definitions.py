"""The SageMaker pipeline definitions: built offline (no credentials, no network), identical run
to run and to the golden files, every reference resolving to something the definition
declares, no path of the building machine, and under CloudFormation's size limit.

Regenerate the golden files after an intended change:
`python -m sagemaker_pipelines.definitions.build tests/unit/golden/ml_pipelines` (dev's)
"""

from __future__ import annotations

import json
import os
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("sagemaker", reason="the `pipelines` extra is not installed")

from cdk_app.config import load_config
from sagemaker_pipelines.definitions import placeholders
from sagemaker_pipelines.definitions.build import MAX_DEFINITION_CHARS, environment_definitions
from sagemaker_pipelines.definitions.placeholders import PipelineNames
from sagemaker_pipelines.definitions.training import CHURN_AUC, CHURN_BRIER, CLV_REVENUE_ERROR

GOLDEN = Path(__file__).parent / "golden" / "ml_pipelines"
REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIG = load_config("dev")
NAMES = PipelineNames.for_prefix("ecommerce-dev")
TRAINING_PARAMETERS = {
    "CutoffDate": "String",
    "HorizonDays": "Integer",
    "MinChurnAuc": "Float",
    "MaxChurnBrier": "Float",
    "MaxClvRevenueError": "Float",
    "ModelApprovalStatus": "String",
    "OrdersUri": "String",
    "TicketsUri": "String",
    "FeaturesUri": "String",
}
SCORING_PARAMETERS = {
    "AsOfDate": "String",
    "OrdersUri": "String",
    "TicketsUri": "String",
    "FeaturesUri": "String",
    "RfmSegmentsUri": "String",
    "ScoresUri": "String",
}
# Step properties a reference may read, by step type (the SageMaker API's response shapes).
STEP_PROPERTIES = {
    "Processing": re.compile(r"^ProcessingOutputConfig\.Outputs\['(?P<output>[^']+)'\]\."),
    "Training": re.compile(r"^ModelArtifacts\.S3ModelArtifacts$"),
}
EXECUTION_VARIABLES = {"PipelineExecutionId", "PipelineExecutionArn", "StartDateTime"}


class _NetworkUsedError(AssertionError):
    pass


@pytest.fixture(scope="module")
def bodies() -> dict[str, str]:
    """Both definitions, built with AWS credentials and config stripped, a bogus endpoint, and
    neither botocore nor any socket able to send anything."""
    import botocore.httpsession

    def refuse(*_args: Any, **_kwargs: Any) -> None:
        raise _NetworkUsedError("the definitions build tried to reach AWS")

    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith("AWS_"):
                patch.delenv(name)
        patch.setenv("AWS_CONFIG_FILE", "/nonexistent")
        patch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        patch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        patch.setattr(botocore.httpsession.URLLib3Session, "send", refuse)
        patch.setattr(socket.socket, "connect", refuse)
        first = environment_definitions(CONFIG)
        second = environment_definitions(CONFIG)
    assert first == second, "the definitions differ from one build to the next"
    return first


@pytest.fixture(scope="module")
def definitions(bodies: dict[str, str]) -> dict[str, dict[str, Any]]:
    return {name: json.loads(body) for name, body in bodies.items()}


def test_both_pipelines_are_built(definitions: dict[str, dict[str, Any]]) -> None:
    assert set(definitions) == {NAMES.training, NAMES.scoring}


def test_definitions_match_the_golden_files(definitions: dict[str, dict[str, Any]]) -> None:
    for name, definition in definitions.items():
        golden = json.loads((GOLDEN / f"{name}.json").read_text())
        assert definition == golden, f"{name} changed: regenerate the golden files (module doc)"


def test_parameters_follow_the_contract(definitions: dict[str, dict[str, Any]]) -> None:
    for name, expected in (
        (NAMES.training, TRAINING_PARAMETERS),
        (NAMES.scoring, SCORING_PARAMETERS),
    ):
        parameters = {p["Name"]: p for p in definitions[name]["Parameters"]}
        assert {key: p["Type"] for key, p in parameters.items()} == expected
    training = {p["Name"]: p["DefaultValue"] for p in definitions[NAMES.training]["Parameters"]}
    assert training["ModelApprovalStatus"] == "PendingManualApproval"
    assert training["HorizonDays"] == CONFIG.ml.horizon_days
    assert training["MinChurnAuc"] == CONFIG.ml.min_churn_auc
    assert training["MaxChurnBrier"] == CONFIG.ml.max_churn_brier
    assert training["MaxClvRevenueError"] == CONFIG.ml.max_clv_revenue_error


def _walk(node: Any) -> Iterator[Any]:
    yield node
    if isinstance(node, dict):
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _steps(steps: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every step, the condition's branches included."""
    for step in steps:
        yield step
        if step["Type"] == "Condition":
            yield from _steps(step["Arguments"]["IfSteps"] + step["Arguments"]["ElseSteps"])


@pytest.mark.parametrize("pipeline", ["training", "scoring"])
def test_every_reference_resolves(definitions: dict[str, dict[str, Any]], pipeline: str) -> None:
    definition = definitions[getattr(NAMES, pipeline)]
    parameters = {p["Name"] for p in definition["Parameters"]}
    steps = {step["Name"]: step for step in _steps(definition["Steps"])}
    references = [
        node["Get"] for node in _walk(definition) if isinstance(node, dict) and "Get" in node
    ]
    assert references
    for reference in references:
        kind, _, rest = reference.partition(".")
        if kind == "Parameters":
            assert rest in parameters, reference
        elif kind == "Execution":
            assert rest in EXECUTION_VARIABLES, reference
        else:
            assert kind == "Steps", reference
            step_name, _, path = rest.partition(".")
            step = steps[step_name]
            if path.startswith("PropertyFiles."):
                declared = {f["PropertyFileName"] for f in step.get("PropertyFiles", [])}
                assert path.removeprefix("PropertyFiles.") in declared, reference
                continue
            match = STEP_PROPERTIES[step["Type"]].match(path)
            assert match, reference
            if "output" in match.groupdict():
                outputs = step["Arguments"]["ProcessingOutputConfig"]["Outputs"]
                assert match["output"] in {o["OutputName"] for o in outputs}, reference


def test_property_files_name_declared_outputs(definitions: dict[str, dict[str, Any]]) -> None:
    for definition in definitions.values():
        for step in _steps(definition["Steps"]):
            outputs = {
                output["OutputName"]
                for output in step["Arguments"].get("ProcessingOutputConfig", {}).get("Outputs", [])
            }
            for property_file in step.get("PropertyFiles", []):
                assert property_file["OutputName"] in outputs


def test_the_condition_reads_the_contract_metrics(definitions: dict[str, dict[str, Any]]) -> None:
    (condition,) = (
        step for step in definitions[NAMES.training]["Steps"] if step["Type"] == "Condition"
    )
    compared = [
        (c["Type"], c["LeftValue"]["Std:JsonGet"]["Path"], c["RightValue"]["Get"])
        for c in condition["Arguments"]["Conditions"]
    ]
    assert compared == [
        ("GreaterThanOrEqualTo", CHURN_AUC, "Parameters.MinChurnAuc"),
        ("LessThanOrEqualTo", CHURN_BRIER, "Parameters.MaxChurnBrier"),
        ("LessThanOrEqualTo", CLV_REVENUE_ERROR, "Parameters.MaxClvRevenueError"),
    ]
    registered = [step["Arguments"] for step in condition["Arguments"]["IfSteps"]]
    assert {args["ModelPackageGroupName"] for args in registered} == {
        NAMES.churn_group,
        NAMES.clv_group,
    }
    for args in registered:
        assert args["ModelApprovalStatus"] == {"Get": "Parameters.ModelApprovalStatus"}
        (container,) = args["InferenceSpecification"]["Containers"]
        assert container["ModelDataUrl"] == {"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}
    (fail,) = condition["Arguments"]["ElseSteps"]
    assert fail["Type"] == "Fail"
    paths = {
        node["Std:JsonGet"]["Path"]
        for node in _walk(fail)
        if isinstance(node, dict) and "Std:JsonGet" in node
    }
    assert paths == {CHURN_AUC, CHURN_BRIER, CLV_REVENUE_ERROR}


def test_steps_run_the_contract_scripts(definitions: dict[str, dict[str, Any]]) -> None:
    scripts = []
    for definition in definitions.values():
        for step in _steps(definition["Steps"]):
            text = json.dumps(step)
            scripts += re.findall(r"sagemaker_pipelines/steps/(\w+)\.py", text)
    assert sorted(set(scripts)) == ["evaluate", "prepare", "score", "train"]


def test_no_local_paths_and_only_placeholders_for_deploy_values(
    definitions: dict[str, dict[str, Any]],
) -> None:
    for name, definition in definitions.items():
        text = json.dumps(definition)
        assert str(REPO_ROOT) not in text, name
        assert str(Path.home()) not in text, name
        for node in _walk(definition):
            if isinstance(node, str) and node.startswith("/") and node != "/":
                assert node.startswith(("/opt/ml/", "/bin/sh")), (name, node)
            if isinstance(node, str) and node.startswith("file:"):
                pytest.fail(f"{name}: local URI {node}")
        scrubbed = text
        subnets = placeholders.subnets(CONFIG.network.max_azs)
        for placeholder in sorted([*placeholders.ALL, *subnets], key=len, reverse=True):
            scrubbed = scrubbed.replace(placeholder, "")
        assert "placeholder" not in scrubbed, name
        assert not re.search(r"\b(us|eu|ap|sa|ca|me|af|il|mx|cn)-[a-z]+-\d\b", scrubbed), name
        assert not re.search(r"\b\d{12}\b", scrubbed), f"{name}: an account id"


def test_each_body_is_under_the_cloudformation_limit(bodies: dict[str, str]) -> None:
    for name, body in bodies.items():
        assert len(body) < MAX_DEFINITION_CHARS, name


def _jobs(definition: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The processing and training steps (the ones that start a job)."""
    return (s for s in _steps(definition["Steps"]) if s["Type"] in {"Processing", "Training"})


def test_every_job_runs_in_the_vpc_s_private_subnets_under_the_jobs_group(
    definitions: dict[str, dict[str, Any]],
) -> None:
    expected = {
        "SecurityGroupIds": [placeholders.SECURITY_GROUP],
        "Subnets": placeholders.subnets(CONFIG.network.max_azs),
    }
    kinds = []
    for definition in definitions.values():
        for step in _jobs(definition):
            arguments = step["Arguments"]
            if step["Type"] == "Processing":
                network = arguments["NetworkConfig"]
                assert network["EnableNetworkIsolation"] is False, step["Name"]
                assert network["VpcConfig"] == expected, step["Name"]
            else:
                assert arguments["VpcConfig"] == expected, step["Name"]
            kinds.append(step["Type"])
    assert sorted(kinds) == ["Processing", "Processing", "Processing", "Training"]
    assert len(expected["Subnets"]) == 3  # dev's max_azs, one subnet per availability zone


def test_the_lake_steps_read_s3_themselves_and_scoring_registers_in_the_catalog(
    definitions: dict[str, dict[str, Any]],
) -> None:
    """prepare and score get the lake's folders as s3:// arguments (awswrangler reads them):
    no job copies the lake in, and scoring has no output to upload, it writes the partition
    and its catalog entry itself."""
    lake = ["--orders", "Parameters.OrdersUri", "--tickets", "Parameters.TicketsUri"]
    for name, step_name in ((NAMES.training, "Prepare"), (NAMES.scoring, "Score")):
        (step,) = (s for s in _jobs(definitions[name]) if s["Name"] == step_name)
        arguments = [
            a["Get"] if isinstance(a, dict) and "Get" in a else a
            for a in step["Arguments"]["AppSpecification"]["ContainerArguments"]
        ]
        position = arguments.index("--orders")
        assert arguments[position : position + 4] == lake, step_name
        assert arguments[arguments.index("--features") + 1] == "Parameters.FeaturesUri"
        inputs = [i["InputName"] for i in step["Arguments"]["ProcessingInputs"]]
        assert inputs == ["code"], step_name
    (score,) = _jobs(definitions[NAMES.scoring])
    arguments = score["Arguments"]["AppSpecification"]["ContainerArguments"]
    assert arguments[arguments.index("--output") + 1] == {"Get": "Parameters.ScoresUri"}
    assert arguments[arguments.index("--catalog-database") + 1] == placeholders.CURATED_DATABASE
    assert arguments[arguments.index("--catalog-table") + 1] == "customer_scores"
    assert arguments[arguments.index("--database-secret") + 1] == placeholders.DATABASE_SECRET
    assert "ProcessingOutputConfig" not in score["Arguments"]
