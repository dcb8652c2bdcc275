"""The local pipeline interpreter runs what a definition says: a hand-written definition's
steps in dependency order with its parameters, conditions and Fail message; the generated
training definition's parameters, property file, condition and registration (its step scripts
replaced by small fixture scripts, so the interpreter, not the models, is under test); and
anything it cannot run is refused by name before a step runs."""

from __future__ import annotations

import json
import tarfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from local_platform.ml_runner import training_definition
from local_platform.pipeline_interpreter import (
    LocalTarget,
    PipelineFailedError,
    PipelineInterpreter,
    StepFailedError,
    UnsupportedDefinitionError,
    step_order,
)
from sagemaker_pipelines.definitions import placeholders
from sagemaker_pipelines.definitions.placeholders import PipelineNames, TrainingDefaults
from sagemaker_pipelines.registry import APPROVED, PENDING, LocalRegistry

BUCKET = "tiny-bucket"
BUCKET_URI = f"s3://{BUCKET}"
EXECUTION_ID = {"Get": "Execution.PipelineExecutionId"}
THRESHOLD = {"Get": "Parameters.Threshold"}
# Each script appends its name to ran.txt beside the container folders, so the order the
# processes ran in is observed, not only the interpreter's own record.
COUNT = """
import json, os, pathlib, sys
root = pathlib.Path(os.environ["PROCESSING_ROOT"])
(root.parents[1] / "ran.txt").open("a").write("count\\n")
out = root / "output" / "counted"
(out / "count.json").write_text(json.dumps({"n": int(sys.argv[sys.argv.index("--n") + 1])}))
"""
DOUBLE = """
import json, os, pathlib
root = pathlib.Path(os.environ["PROCESSING_ROOT"])
(root.parents[1] / "ran.txt").open("a").write("double\\n")
n = json.loads((root / "input" / "counted" / "count.json").read_text())["n"]
(root / "output" / "report" / "report.json").write_text(json.dumps({"stats": {"doubled": 2 * n}}))
"""


def _processing(name: str, script: str, args: list[Any], inputs: list, outputs: list) -> dict:
    return {
        "Name": name,
        "Type": "Processing",
        "Arguments": {
            "AppSpecification": {
                "ContainerEntrypoint": [
                    "/bin/sh",
                    "-c",
                    f'exec python3 /opt/ml/processing/source/{script} "$@"',
                ],
                "ContainerArguments": args,
            },
            "ProcessingInputs": [
                {"S3Input": {"S3Uri": uri, "LocalPath": f"/opt/ml/processing/input/{name}"}}
                for name, uri in inputs
            ],
            "ProcessingOutputConfig": {
                "Outputs": [
                    {
                        "OutputName": name,
                        "S3Output": {
                            "S3Uri": uri,
                            "LocalPath": f"/opt/ml/processing/output/{name}",
                        },
                    }
                    for name, uri in outputs
                ]
            },
        },
    }


def tiny_definition() -> dict[str, Any]:
    """Double (listed first) reads Count's output; a condition on Double's report chooses
    between nothing and a Fail step whose message joins the report and the parameters."""
    doubled = {
        "Std:JsonGet": {
            "PropertyFile": {"Get": "Steps.Double.PropertyFiles.Report"},
            "Path": "stats.doubled",
        }
    }
    double = _processing(
        "Double",
        "double.py",
        [],
        [
            (
                "counted",
                {"Get": "Steps.Count.ProcessingOutputConfig.Outputs['counted'].S3Output.S3Uri"},
            )
        ],
        [("report", f"s3://{BUCKET}/report")],
    )
    double["PropertyFiles"] = [
        {"PropertyFileName": "Report", "OutputName": "report", "FilePath": "report.json"}
    ]
    count = _processing(
        "Count",
        "count.py",
        ["--n", {"Std:Join": {"On": "", "Values": [{"Get": "Parameters.N"}]}}],
        [],
        [("counted", {"Std:Join": {"On": "/", "Values": [BUCKET_URI, EXECUTION_ID, "counted"]}})],
    )
    check = {
        "Name": "Check",
        "Type": "Condition",
        "Arguments": {
            "Conditions": [
                {
                    "Type": "GreaterThanOrEqualTo",
                    "LeftValue": doubled,
                    "RightValue": THRESHOLD,
                }
            ],
            "IfSteps": [],
            "ElseSteps": [
                {
                    "Name": "TooSmall",
                    "Type": "Fail",
                    "Arguments": {
                        "ErrorMessage": {
                            "Std:Join": {
                                "On": "",
                                "Values": ["doubled ", doubled, " under ", THRESHOLD],
                            }
                        }
                    },
                }
            ],
        },
    }  # fmt: skip
    return {
        "Parameters": [
            {"Name": "N", "Type": "Integer", "DefaultValue": 7},
            {"Name": "Threshold", "Type": "Float", "DefaultValue": 10.0},
        ],
        "Steps": [check, double, count],
    }


@pytest.fixture
def tiny(tmp_path: Path) -> LocalTarget:
    source = tmp_path / "source"
    source.mkdir()
    (source / "count.py").write_text(COUNT)
    (source / "double.py").write_text(DOUBLE)
    return LocalTarget(
        {BUCKET: tmp_path / "bucket"}, tmp_path / "run" / "jobs", LocalRegistry(tmp_path / "reg"),
        source_root=source,
    )  # fmt: skip


def test_a_hand_written_definition_runs_in_dependency_order(tiny: LocalTarget) -> None:
    definition = tiny_definition()
    assert [step["Name"] for step in step_order(definition["Steps"])] == [
        "Count",
        "Double",
        "Check",
    ]
    execution = PipelineInterpreter(definition, tiny).run({}, "exec-1")
    assert execution.steps == ["Count", "Double", "Check"]
    assert (tiny.work / "ran.txt").read_text() == "count\ndouble\n"
    assert json.loads((tiny.buckets[BUCKET] / "exec-1" / "counted" / "count.json").read_text()) == {
        "n": 7
    }
    assert execution.property_file("Double", "Report") == {"stats": {"doubled": 14}}
    [outcome] = execution.conditions["Check"]
    assert (outcome.left, outcome.right, outcome.holds) == (14, 10.0, True)


def test_relative_bucket_and_run_folders_run_as_absolute_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`ecom demo --workdir some/folder` gives the interpreter relative folders."""
    (tmp_path / "source").mkdir()
    (tmp_path / "source" / "count.py").write_text(COUNT)
    (tmp_path / "source" / "double.py").write_text(DOUBLE)
    monkeypatch.chdir(tmp_path)
    relative = LocalTarget(
        {BUCKET: Path("bucket")}, Path("run") / "jobs", LocalRegistry(Path("reg")),
        source_root=Path("source"),
    )  # fmt: skip
    execution = PipelineInterpreter(tiny_definition(), relative).run({"N": "5"}, "exec-rel")
    assert execution.property_file("Double", "Report") == {"stats": {"doubled": 10}}
    assert json.loads(
        (tmp_path / "bucket" / "exec-rel" / "counted" / "count.json").read_text()
    ) == {"n": 5}


def test_parameters_override_defaults_and_the_fail_message_comes_from_the_definition(
    tiny: LocalTarget,
) -> None:
    with pytest.raises(PipelineFailedError) as failed:
        PipelineInterpreter(tiny_definition(), tiny).run({"N": "3", "Threshold": 6.5}, "exec-2")
    assert str(failed.value) == "doubled 6 under 6.5"
    assert failed.value.step == "TooSmall"
    assert failed.value.execution.steps == ["Count", "Double", "Check", "TooSmall"]


def test_a_changed_threshold_default_changes_the_outcome(tiny: LocalTarget) -> None:
    definition = tiny_definition()
    definition["Parameters"][1]["DefaultValue"] = 15
    with pytest.raises(PipelineFailedError, match=r"^doubled 14 under 15\.0$"):
        PipelineInterpreter(definition, tiny).run({}, "exec-3")


def test_an_unknown_step_type_is_refused_before_anything_runs(tiny: LocalTarget) -> None:
    definition = tiny_definition()
    definition["Steps"][0]["Arguments"]["IfSteps"] = [
        {"Name": "Batch", "Type": "Transform", "Arguments": {}}
    ]
    with pytest.raises(UnsupportedDefinitionError, match="step Batch has type Transform"):
        PipelineInterpreter(definition, tiny).run({}, "exec-4")
    assert not (tiny.work / "ran.txt").exists()


def test_an_unknown_function_parameter_or_bucket_is_named(tiny: LocalTarget) -> None:
    definition = tiny_definition()
    definition["Steps"][2]["Arguments"]["AppSpecification"]["ContainerArguments"] = [
        {"Std:Upper": {"Value": "n"}}
    ]
    with pytest.raises(UnsupportedDefinitionError, match="function Std:Upper"):
        PipelineInterpreter(definition, tiny).run({}, "exec-5")
    with pytest.raises(UnsupportedDefinitionError, match="no parameter Nn"):
        PipelineInterpreter(tiny_definition(), tiny).run({"Nn": 1}, "exec-6")
    with pytest.raises(UnsupportedDefinitionError, match="no local folder for bucket other"):
        tiny.local_path("s3://other/key")


def test_a_failing_script_reports_local_paths(tiny: LocalTarget) -> None:
    (tiny.source_root / "double.py").write_text(
        "import os, sys\nsys.exit(f'no data under {os.environ[\"PROCESSING_ROOT\"]}/input/counted')"
    )
    with pytest.raises(StepFailedError) as failed:
        PipelineInterpreter(tiny_definition(), tiny).run({}, "exec-7")
    assert failed.value.step == "Double"
    assert failed.value.message == f"no data under {tiny.buckets[BUCKET] / 'exec-7' / 'counted'}"


# The generated training definition, run with fixture scripts in place of the real steps.
PREPARE = """
import pathlib, sys
option = dict(zip(sys.argv[1::2], sys.argv[2::2]))
orders = pathlib.Path(option["--orders"]).relative_to(pathlib.Path(option["--output"]).parents[3])
for channel in ("train", "test", "transactions"):
    text = f"{channel} cutoff={option['--cutoff']} orders={orders}"
    (pathlib.Path(option["--output"]) / channel / "data.txt").write_text(text)
"""
TRAIN = """
import os, pathlib, sys
model = pathlib.Path(os.environ["SM_MODEL_DIR"])
train = pathlib.Path(os.environ["SM_CHANNEL_TRAIN"]) / "data.txt"
(model / "model.txt").write_text(" ".join(sys.argv[1:]) + " | " + train.read_text())
"""
EVALUATE = """
import json, os, pathlib, tarfile
root = pathlib.Path(os.environ["PROCESSING_ROOT"])
with tarfile.open(root / "input" / "model" / "model.tar.gz") as tar:
    assert tar.getnames() == ["model.txt"]
metrics = {"churn": {"auc": {"value": 0.8}, "brier": {"value": 0.1}},
           "clv": {"abs_revenue_error": {"value": 0.2}}}
(root / "evaluation" / "evaluation.json").write_text(json.dumps(metrics))
"""
NAMES = PipelineNames.for_prefix("ecommerce-unit")
DEFAULTS = TrainingDefaults(
    horizon_days=60, min_churn_auc=0.75, max_churn_brier=0.12, max_clv_revenue_error=0.3
)


@pytest.fixture
def training_target(tmp_path: Path) -> LocalTarget:
    steps = tmp_path / "source" / "sagemaker_pipelines" / "steps"
    steps.mkdir(parents=True)
    for name, script in (("prepare", PREPARE), ("train", TRAIN), ("evaluate", EVALUATE)):
        (steps / f"{name}.py").write_text(script)
    buckets = {
        bucket: tmp_path / bucket
        for bucket in (
            placeholders.RAW_BUCKET,
            placeholders.MARTS_BUCKET,
            placeholders.ARTIFACTS_BUCKET,
        )
    }
    return LocalTarget(
        buckets, tmp_path / "jobs", LocalRegistry(tmp_path / "registry"),
        source_root=tmp_path / "source",
    )  # fmt: skip


def test_the_training_definition_registers_with_its_parameters(
    training_target: LocalTarget,
) -> None:
    definition = training_definition(NAMES, DEFAULTS)
    execution = PipelineInterpreter(definition, training_target).run(
        {"CutoffDate": "2026-05-01", "ModelApprovalStatus": APPROVED}, "exec"
    )
    assert execution.steps == [
        "Prepare",
        "Train",
        "Evaluate",
        "MetricsMeetTrainingDefaults",
        "RegisterChurn-RegisterModel",
        "RegisterClv-RegisterModel",
    ]
    churn, clv = execution.registered
    assert (churn.group, churn.status, clv.group, clv.status) == (
        "ecommerce-unit-churn",
        APPROVED,
        "ecommerce-unit-clv",
        APPROVED,
    )
    assert churn.metrics["churn"]["auc"]["value"] == 0.8
    with tarfile.open(churn.artifact) as tar:
        model = tar.extractfile("model.txt").read().decode()
    # The hyperparameter from HorizonDays' default; the train channel from Prepare's output,
    # which got the orders' S3 URI as the raw bucket's local folder.
    assert (
        model
        == "--horizon-days 60 | train cutoff=2026-05-01 orders=placeholder-raw-bucket/oltp/orders"
    )


def test_a_higher_threshold_default_in_the_definition_fails_with_its_message(
    training_target: LocalTarget,
) -> None:
    definition = training_definition(NAMES, replace(DEFAULTS, min_churn_auc=0.85))
    with pytest.raises(PipelineFailedError) as failed:
        PipelineInterpreter(definition, training_target).run({}, "exec")
    assert str(failed.value) == (
        "Not registered, a metric misses its threshold: churn AUC 0.8 (min 0.85), churn Brier "
        "0.1 (max 0.12), CLV revenue error 0.2 (max 0.3)"
    )
    assert failed.value.execution.registered == []
    assert LocalRegistry(training_target.registry.root).versions(NAMES.churn_group) == []
    # The same definition started with a lower threshold registers, pending approval.
    again = replace(training_target, work=training_target.work.with_name("jobs-2"))
    passed = PipelineInterpreter(definition, again).run(DEFAULTS.parameters(), "exec-2")
    assert [version.status for version in passed.registered] == [PENDING, PENDING]
