"""Runs a SageMaker pipeline definition (the JSON the SDK builds) on one machine.

The interpreter walks the definition as SageMaker would: parameters (defaults, overridden by
the caller's), steps in dependency order (DependsOn and the steps their arguments reference),
processing and training jobs as plain processes of the step scripts with the definition's
arguments and hyperparameters, property files read with JsonGet, conditions choosing their
branch, Fail steps ending the run with their resolved message, and RegisterModel steps
registering into a LocalRegistry. S3 URIs are mapped to local folders by bucket; a job's
container paths (/opt/ml/processing/...) to a folder per step. Anything else in a definition
(a step type, a function, a condition) is refused by name rather than skipped.

It lives in local_platform because it is local machinery (processes, folders) composing the
runtimes; the definitions stay SDK-built in sagemaker_pipelines/definitions.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tarfile
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sagemaker_pipelines.definitions import placeholders
from sagemaker_pipelines.registry import LocalRegistry, ModelVersion
from sagemaker_pipelines.steps import LOCAL_REGISTRY_VARIABLE, PROCESSING_ROOT_VARIABLE

PROCESSING_ROOT = "/opt/ml/processing"
"""The container folder of a processing job's inputs and outputs."""
SOURCE_ROOT = f"{PROCESSING_ROOT}/source"
"""Where a step's shell line unpacks the project's source (processors.py); locally, the
repository this module belongs to."""
_SCRIPT = re.compile(r'exec python3 (?P<script>\S+\.py) "\$@"')
_PROPERTY_TOKEN = re.compile(r"\.?(?P<name>\w+)|\[(?:'(?P<key>[^']*)'|(?P<index>\d+))\]")
_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "Equals": lambda left, right: left == right,
    "GreaterThan": lambda left, right: left > right,
    "GreaterThanOrEqualTo": lambda left, right: left >= right,
    "LessThan": lambda left, right: left < right,
    "LessThanOrEqualTo": lambda left, right: left <= right,
}
_CASTS: dict[str, Callable[[Any], Any]] = {
    "String": str,
    "Integer": int,
    "Float": float,
    "Boolean": lambda value: value if isinstance(value, bool) else str(value).lower() == "true",
}


class UnsupportedDefinitionError(ValueError):
    """The definition holds something the interpreter cannot run (named in the message)."""


class StepFailedError(RuntimeError):
    """A job's process exited non-zero; `message` is its stderr with container paths
    replaced by the local folders they stand for."""

    def __init__(self, step: str, returncode: int, message: str) -> None:
        self.step = step
        self.returncode = returncode
        self.message = message
        super().__init__(f"step {step} failed (exit {returncode}): {message}")


class PipelineFailedError(RuntimeError):
    """A Fail step ran: `message` is its resolved ErrorMessage."""

    def __init__(self, step: str, message: str, execution: Execution) -> None:
        self.step = step
        self.message = message
        self.execution = execution
        super().__init__(message)


@dataclass(frozen=True)
class ConditionOutcome:
    """One comparison of a Condition step, with both sides resolved."""

    type: str
    left: Any
    right: Any
    holds: bool


@dataclass
class Execution:
    """What a run did: resolved parameters, the steps started (in order), each finished
    step's properties, the property files, the conditions' outcomes and the registered
    versions."""

    execution_id: str
    parameters: dict[str, Any]
    steps: list[str] = field(default_factory=list)
    properties: dict[str, dict[str, Any]] = field(default_factory=dict)
    property_files: dict[str, dict[str, Path]] = field(default_factory=dict)
    conditions: dict[str, list[ConditionOutcome]] = field(default_factory=dict)
    registered: list[ModelVersion] = field(default_factory=list)

    def property_file(self, step: str, name: str) -> dict[str, Any]:
        """A step's property file, parsed."""
        try:
            path = self.property_files[step][name]
        except KeyError as missing:
            raise UnsupportedDefinitionError(
                f"no property file {name} of step {step} (has it run?)"
            ) from missing
        return json.loads(path.read_text())


@dataclass(frozen=True)
class LocalTarget:
    """Where a run's S3 URIs and containers live on this machine."""

    buckets: Mapping[str, Path]
    """Bucket name (the definitions' placeholders) -> the folder standing for it."""
    work: Path
    """The run's folder: one container folder per job, training model folders."""
    registry: LocalRegistry
    source_root: Path = Path(__file__).resolve().parents[1]
    """The repository: what the source tarball (`source_uri`) holds."""
    source_uri: str = placeholders.SOURCE_URI
    skip_options: frozenset[str] = frozenset()
    """Job options (with their values) that only mean something in AWS, such as a Glue
    catalog table or an RDS secret: left out, the local runner doing that work itself."""

    def local_path(self, uri: str) -> Path:
        """The folder or file an s3:// URI stands for."""
        if not isinstance(uri, str) or not uri.startswith("s3://"):
            raise UnsupportedDefinitionError(f"not an S3 URI: {uri!r}")
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        if bucket not in self.buckets:
            raise UnsupportedDefinitionError(f"no local folder for bucket {bucket} ({uri})")
        return self.buckets[bucket] / key.strip("/")


def step_order(steps: list[dict[str, Any]], ran: Collection[str] = ()) -> list[dict[str, Any]]:
    """`steps` with each after the steps it depends on (DependsOn, or a reference to their
    properties anywhere in its arguments), otherwise in definition order. A dependency may
    also be a step that `ran` before (a branch's steps read the steps before the condition)."""
    by_name = {step["Name"]: step for step in steps}
    nested = {nested["Name"] for nested in _all_steps(steps)} - set(by_name) | set(ran)
    ordered: list[dict[str, Any]] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if any(step["Name"] == name for step in ordered):
            return
        if name in visiting:
            raise UnsupportedDefinitionError(f"steps depend on each other in a cycle at {name}")
        visiting.add(name)
        for dependency in sorted(_dependencies(by_name[name]) - {name}):
            if dependency in nested:
                continue  # run before, or a branch step its condition runs
            if dependency not in by_name:
                raise UnsupportedDefinitionError(
                    f"step {name} depends on unknown step {dependency}"
                )
            visit(dependency)
        visiting.discard(name)
        ordered.append(by_name[name])

    for step in steps:
        visit(step["Name"])
    return ordered


def _all_steps(steps: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every step, those in conditions' branches included."""
    for step in steps:
        yield step
        for branch in ("IfSteps", "ElseSteps"):
            yield from _all_steps(step.get("Arguments", {}).get(branch, []))


def _dependencies(step: dict[str, Any]) -> set[str]:
    names = set(step.get("DependsOn", []))
    for reference in _references(step.get("Arguments", {})):
        if reference.startswith("Steps."):
            names.add(reference.split(".")[1])
    return names


def _references(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        if set(value) == {"Get"}:
            yield value["Get"]
        for item in value.values():
            yield from _references(item)
    elif isinstance(value, list):
        for item in value:
            yield from _references(item)


class PipelineInterpreter:
    """Runs one definition against a LocalTarget."""

    def __init__(self, definition: Mapping[str, Any], target: LocalTarget) -> None:
        self.definition = definition
        self.target = target

    def run(self, parameters: Mapping[str, Any], execution_id: str) -> Execution:
        """Every step in order; raises PipelineFailedError when a Fail step runs and
        StepFailedError when a job exits non-zero."""
        execution = Execution(execution_id, self._parameters(parameters))
        for step in _all_steps(self.definition.get("Steps", [])):
            if step["Type"] not in self._runners:
                raise UnsupportedDefinitionError(
                    f"step {step['Name']} has type {step['Type']}, which cannot run locally"
                )
        for step in step_order(self.definition.get("Steps", [])):
            self._run_step(step, execution)
        return execution

    def _parameters(self, given: Mapping[str, Any]) -> dict[str, Any]:
        declared = {parameter["Name"]: parameter for parameter in self.definition["Parameters"]}
        unknown = sorted(set(given) - set(declared))
        if unknown:
            raise UnsupportedDefinitionError(f"the pipeline has no parameter {', '.join(unknown)}")
        values = {}
        for name, parameter in declared.items():
            cast = _CASTS.get(parameter["Type"])
            if cast is None:
                raise UnsupportedDefinitionError(
                    f"parameter {name} has unsupported type {parameter['Type']}"
                )
            if name in given:
                values[name] = cast(given[name])
            elif "DefaultValue" in parameter:
                values[name] = cast(parameter["DefaultValue"])
            else:
                raise UnsupportedDefinitionError(f"parameter {name} has no default and no value")
        return values

    @property
    def _runners(self) -> dict[str, Callable[[dict[str, Any], Execution], None]]:
        return {
            "Processing": self._processing,
            "Training": self._training,
            "Condition": self._condition,
            "Fail": self._fail,
            "RegisterModel": self._register,
        }

    def _run_step(self, step: dict[str, Any], execution: Execution) -> None:
        execution.steps.append(step["Name"])
        self._runners[step["Type"]](step, execution)

    # Expressions ---------------------------------------------------------------------------

    def resolve(self, value: Any, execution: Execution) -> Any:
        """`value` with every Get, Std:Join and Std:JsonGet replaced by what it evaluates to."""
        if isinstance(value, list):
            return [self.resolve(item, execution) for item in value]
        if not isinstance(value, dict):
            return value
        if set(value) == {"Get"}:
            return self._get(value["Get"], execution)
        functions = [key for key in value if key.startswith("Std:")]
        if functions:
            if len(value) != 1:
                raise UnsupportedDefinitionError(f"cannot evaluate {json.dumps(value)}")
            return self._function(functions[0], value[functions[0]], execution)
        return {key: self.resolve(item, execution) for key, item in value.items()}

    def _get(self, reference: str, execution: Execution) -> Any:
        kind, _, rest = reference.partition(".")
        if kind == "Parameters":
            if rest not in execution.parameters:
                raise UnsupportedDefinitionError(f"no parameter {rest} ({reference})")
            return execution.parameters[rest]
        if reference == "Execution.PipelineExecutionId":
            return execution.execution_id
        if kind == "Steps":
            step, _, path = rest.partition(".")
            if step not in execution.properties:
                raise UnsupportedDefinitionError(f"{reference}: step {step} has not run")
            return _property(execution.properties[step], path, reference)
        raise UnsupportedDefinitionError(f"cannot evaluate Get {reference}")

    def _function(self, name: str, arguments: Any, execution: Execution) -> Any:
        if name == "Std:Join":
            values = self.resolve(arguments["Values"], execution)
            return arguments["On"].join(_text(item) for item in values)
        if name == "Std:JsonGet":
            reference = arguments["PropertyFile"]["Get"]
            match = re.fullmatch(r"Steps\.(\w+)\.PropertyFiles\.(\w+)", reference)
            if match is None:
                raise UnsupportedDefinitionError(f"JsonGet from {reference}")
            document = execution.property_file(match[1], match[2])
            return _property(document, arguments["Path"], f"{reference} {arguments['Path']}")
        raise UnsupportedDefinitionError(f"function {name} cannot be evaluated locally")

    # Steps ---------------------------------------------------------------------------------

    def _processing(self, step: dict[str, Any], execution: Execution) -> None:
        name = step["Name"]
        arguments = self.resolve(step["Arguments"], execution)
        container = self.target.work / name
        app = arguments["AppSpecification"]
        script = self._entrypoint_script(name, app.get("ContainerEntrypoint", []))
        mounts: dict[str, Path] = {}
        outputs: dict[str, Path] = {}
        for job_input in arguments.get("ProcessingInputs", []):
            s3_input = job_input["S3Input"]
            if s3_input["S3Uri"] == self.target.source_uri:
                continue  # the source tarball: locally the repository itself
            source = self.target.local_path(s3_input["S3Uri"])
            mounts[s3_input["LocalPath"]] = source
            _mount(_in_container(container, s3_input["LocalPath"]), source)
        for output in arguments.get("ProcessingOutputConfig", {}).get("Outputs", []):
            s3_output = output["S3Output"]
            destination = self.target.local_path(s3_output["S3Uri"])
            destination.mkdir(parents=True, exist_ok=True)
            mounts[s3_output["LocalPath"]] = destination
            outputs[output["OutputName"]] = destination
            _mount(_in_container(container, s3_output["LocalPath"]), destination)
        environment = {PROCESSING_ROOT_VARIABLE: str(container / "processing")}
        args = self._local_arguments(app.get("ContainerArguments", []), container)
        self._run_script(
            name, script, args, environment,
            {str(_in_container(container, path)): str(local) for path, local in mounts.items()},
        )  # fmt: skip
        execution.properties[name] = arguments
        files = {}
        for property_file in step.get("PropertyFiles", []):
            output = property_file["OutputName"]
            if output not in outputs:
                raise UnsupportedDefinitionError(
                    f"step {name}: property file {property_file['PropertyFileName']} names "
                    f"no output {output}"
                )
            files[property_file["PropertyFileName"]] = outputs[output] / property_file["FilePath"]
        execution.property_files[name] = files

    def _local_arguments(self, arguments: list[Any], container: Path) -> list[str]:
        """The job's arguments as a local process takes them: S3 URIs as their local folders,
        container paths inside the step's folder, the AWS-only options left out."""
        local: list[str] = []
        skip_value = False
        for argument in map(_text, arguments):
            if skip_value:
                skip_value = False
            elif argument in self.target.skip_options:
                skip_value = True
            elif argument.startswith("s3://"):
                local.append(str(self.target.local_path(argument)))
            elif argument == PROCESSING_ROOT or argument.startswith(PROCESSING_ROOT + "/"):
                local.append(str(_in_container(container, argument)))
            else:
                local.append(argument)
        return local

    def _entrypoint_script(self, step: str, entrypoint: list[str]) -> Path:
        """The step script the container's entrypoint runs (processors.py's shell line)."""
        match = next(filter(None, (_SCRIPT.search(part) for part in entrypoint)), None)
        if match is None or not match["script"].startswith(SOURCE_ROOT + "/"):
            raise UnsupportedDefinitionError(
                f"step {step}: cannot run entrypoint {' '.join(entrypoint)!r} locally"
            )
        return self.target.source_root / match["script"].removeprefix(SOURCE_ROOT + "/")

    def _training(self, step: dict[str, Any], execution: Execution) -> None:
        name = step["Name"]
        arguments = self.resolve(step["Arguments"], execution)
        hyperparameters = dict(arguments.get("HyperParameters", {}))
        program = hyperparameters.get("sagemaker_program")
        if program is None:
            raise UnsupportedDefinitionError(f"step {name}: a training job without a program")
        script = self.target.source_root / json.loads(program)
        model_dir = self.target.work / name / "model"
        model_dir.mkdir(parents=True, exist_ok=True)
        environment = {"SM_MODEL_DIR": str(model_dir)}
        for channel in arguments.get("InputDataConfig", []):
            uri = channel["DataSource"]["S3DataSource"]["S3Uri"]
            environment[f"SM_CHANNEL_{channel['ChannelName'].upper()}"] = str(
                self.target.local_path(uri)
            )
        args = [
            part
            for key, value in hyperparameters.items()
            if not key.startswith("sagemaker_")
            for part in (f"--{key}", _text(value))
        ]
        self._run_script(name, script, args, environment, {})
        # SageMaker packs the model folder as <output path>/<job>/output/model.tar.gz.
        output_path = arguments["OutputDataConfig"]["S3OutputPath"].rstrip("/")
        artifact = f"{output_path}/{name}/output/model.tar.gz"
        archive = self.target.local_path(artifact)
        archive.parent.mkdir(parents=True, exist_ok=True)
        with tarfile.open(archive, "w:gz") as tar:
            for path in sorted(model_dir.iterdir()):
                tar.add(path, arcname=path.name)
        execution.properties[name] = arguments | {"ModelArtifacts": {"S3ModelArtifacts": artifact}}

    def _condition(self, step: dict[str, Any], execution: Execution) -> None:
        outcomes = []
        for condition in step["Arguments"]["Conditions"]:
            compare = _COMPARISONS.get(condition["Type"])
            if compare is None:
                raise UnsupportedDefinitionError(
                    f"step {step['Name']}: condition {condition['Type']} cannot be evaluated"
                )
            left = self.resolve(condition["LeftValue"], execution)
            right = self.resolve(condition["RightValue"], execution)
            outcomes.append(ConditionOutcome(condition["Type"], left, right, compare(left, right)))
        execution.conditions[step["Name"]] = outcomes
        execution.properties[step["Name"]] = {"Outcome": all(outcome.holds for outcome in outcomes)}
        branch = "IfSteps" if execution.properties[step["Name"]]["Outcome"] else "ElseSteps"
        for nested in step_order(step["Arguments"].get(branch, []), execution.steps):
            self._run_step(nested, execution)

    def _fail(self, step: dict[str, Any], execution: Execution) -> None:
        message = _text(self.resolve(step["Arguments"].get("ErrorMessage", ""), execution))
        raise PipelineFailedError(step["Name"], message, execution)

    def _register(self, step: dict[str, Any], execution: Execution) -> None:
        arguments = self.resolve(step["Arguments"], execution)
        containers = arguments["InferenceSpecification"]["Containers"]
        if len(containers) != 1:
            raise UnsupportedDefinitionError(
                f"step {step['Name']}: {len(containers)} inference containers (one runs locally)"
            )
        statistics = arguments.get("ModelMetrics", {}).get("ModelQuality", {}).get("Statistics")
        metrics = (
            json.loads(self.target.local_path(statistics["S3Uri"]).read_text())
            if statistics
            else {}
        )
        version = self.target.registry.register(
            arguments["ModelPackageGroupName"],
            self.target.local_path(containers[0]["ModelDataUrl"]),
            metrics,
            status=arguments["ModelApprovalStatus"],
        )
        execution.registered.append(version)
        execution.properties[step["Name"]] = arguments | {
            "ModelPackageArn": f"{version.group}/{version.version}"
        }

    def _run_script(
        self,
        step: str,
        script: Path,
        args: list[str],
        environment: dict[str, str],
        container_paths: dict[str, str],
    ) -> None:
        """Run `script` as the job would. Container paths in a failure's stderr are replaced
        by the local folders mounted there."""
        if not script.is_file():
            raise UnsupportedDefinitionError(f"step {step}: no script {script}")
        variables = os.environ | environment
        variables[LOCAL_REGISTRY_VARIABLE] = str(self.target.registry.root)
        result = subprocess.run(  # noqa: S603 this Python running the project's step scripts
            [sys.executable, str(script), *args],
            capture_output=True,
            text=True,
            check=False,
            env=variables,
        )
        if result.returncode != 0:
            message = result.stderr.strip()
            for path in sorted(container_paths, key=len, reverse=True):
                message = message.replace(path, container_paths[path])
            raise StepFailedError(step, result.returncode, message)


def _text(value: Any) -> str:
    """A resolved value as the pipeline service renders it in strings."""
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def _property(document: Any, path: str, reference: str) -> Any:
    """Walk `path` (`A.B['key'].C[0]`) in `document`; a list indexed by a quoted key is
    searched for the item whose OutputName or ChannelName is that key."""
    value = document
    position = 0
    while position < len(path):
        token = _PROPERTY_TOKEN.match(path, position)
        if token is None:
            raise UnsupportedDefinitionError(f"cannot read property path {path} ({reference})")
        position = token.end()
        try:
            if token["name"] is not None:
                value = value[token["name"]]
            elif token["index"] is not None:
                value = value[int(token["index"])]
            else:
                value = next(
                    item
                    for item in value
                    if token["key"] in (item.get("OutputName"), item.get("ChannelName"))
                )
        except (KeyError, IndexError, TypeError, StopIteration) as missing:
            raise UnsupportedDefinitionError(f"no property {path} ({reference})") from missing
    return value


def _in_container(container: Path, local_path: str) -> Path:
    """A container path under /opt/ml/processing, inside the step's container folder."""
    if local_path == PROCESSING_ROOT:
        return container / "processing"
    if not local_path.startswith(PROCESSING_ROOT + "/"):
        raise UnsupportedDefinitionError(f"container path {local_path} outside {PROCESSING_ROOT}")
    return container / "processing" / local_path.removeprefix(PROCESSING_ROOT + "/")


def _mount(at: Path, source: Path) -> None:
    """Make `source` (a folder, or one file as S3 downloads a single object) appear at `at`.
    The link holds the absolute path: a relative one would be read from the link's folder."""
    at.parent.mkdir(parents=True, exist_ok=True)
    source = source.absolute()
    if source.is_file():
        at.mkdir(exist_ok=True)
        (at / source.name).symlink_to(source)
    else:
        at.symlink_to(source, target_is_directory=True)
