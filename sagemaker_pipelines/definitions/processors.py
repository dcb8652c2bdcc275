"""How a step script runs inside the stock scikit-learn image. The project's source travels as
one tarball (`placeholders.SOURCE_URI`, uploaded by the stack); a processing job receives it as
its code and a shell line unpacks it and runs `sagemaker_pipelines/steps/<name>.py` with the
job's arguments. The SDK's FrameworkProcessor would do the same but uploads a generated
launcher to S3 while the definition is built, which an offline build cannot do.

Every job runs in the platform VPC's private subnets under the jobs' security group
(placeholders the stack replaces); the VPC has no internet route, so the jobs reach S3, Glue,
SageMaker, STS and CloudWatch Logs through its endpoints. The steps that read the lake take
its folders as `s3://` arguments and read them with awswrangler (steps/lake_io.py)."""

from __future__ import annotations

from sagemaker import image_uris
from sagemaker.network import NetworkConfig
from sagemaker.processing import ScriptProcessor
from sagemaker.session import Session
from sagemaker.sklearn.estimator import SKLearn
from sagemaker.workflow.execution_variables import ExecutionVariables
from sagemaker.workflow.functions import Join
from sagemaker.workflow.parameters import ParameterString

from sagemaker_pipelines.definitions import placeholders
from sagemaker_pipelines.definitions.sources import features_uri, orders_uri, tickets_uri

INSTANCE_TYPE = "ml.m5.large"
STEP_SCRIPT = "sagemaker_pipelines/steps/{}.py"
_SOURCE_ROOT = "/opt/ml/processing/source"


def _unpack_and_run(step: str) -> str:
    """`sh -c` this line: the processor appends the code's container path as $0 and the job's
    arguments follow as "$@". The tarball lands in $0's folder under its S3 object name (the
    stack's asset key, not the placeholder's), so the line unpacks whatever that folder holds."""
    script = STEP_SCRIPT.format(step)
    return (
        f'mkdir -p {_SOURCE_ROOT} && tar -xzf "${{0%/*}}"/* -C {_SOURCE_ROOT}'
        f' && exec python3 {_SOURCE_ROOT}/{script} "$@"'
    )


def sklearn_image_accounts() -> dict[str, str]:
    """Region -> the ECR account of the stock scikit-learn image there (the SDK's own table)."""
    versions = image_uris.config_for_framework("sklearn")["training"]["versions"]
    return dict(sorted(versions[placeholders.SKLEARN_VERSION]["registries"].items()))


def step_processor(
    step: str, base_job_name: str, session: Session, subnets: list[str]
) -> ScriptProcessor:
    """A processor running the step script `step` from the source tarball, in `subnets`."""
    return ScriptProcessor(
        image_uri=placeholders.SKLEARN_IMAGE_URI,
        command=["/bin/sh", "-c", _unpack_and_run(step)],
        role=placeholders.ROLE_ARN,
        instance_type=INSTANCE_TYPE,
        instance_count=1,
        base_job_name=base_job_name,
        network_config=NetworkConfig(
            enable_network_isolation=False,
            security_group_ids=[placeholders.SECURITY_GROUP],
            subnets=subnets,
        ),
        sagemaker_session=session,
    )


def training_estimator(
    base_job_name: str, session: Session, hyperparameters: dict, subnets: list[str]
) -> SKLearn:
    """The training job: the image's script mode unpacks the tarball and runs train.py, in
    `subnets`."""
    return SKLearn(
        framework_version=placeholders.SKLEARN_VERSION,
        py_version="py3",
        image_uri=placeholders.SKLEARN_IMAGE_URI,
        entry_point=STEP_SCRIPT.format("train"),
        source_dir=placeholders.SOURCE_URI,
        role=placeholders.ROLE_ARN,
        instance_type=INSTANCE_TYPE,
        instance_count=1,
        base_job_name=base_job_name,
        output_path=execution_uri("models"),
        hyperparameters=hyperparameters,
        subnets=subnets,
        security_group_ids=[placeholders.SECURITY_GROUP],
        # Debugger and profiler would add their own rules, images and S3 paths.
        debugger_hook_config=False,
        disable_profiler=True,
        sagemaker_session=session,
    )


def execution_uri(*parts: str) -> Join:
    """`s3://<artifacts>/ml/<execution id>/<parts>`: each run writes under its own prefix."""
    return Join(
        on="/",
        values=[
            f"s3://{placeholders.ARTIFACTS_BUCKET}/{placeholders.ML_PREFIX}",
            ExecutionVariables.PIPELINE_EXECUTION_ID,
            *parts,
        ],
    )


# Where a processing step finds its inputs and leaves its outputs (the step scripts' defaults).
PROCESSING = "/opt/ml/processing"


def lake_parameters() -> tuple[ParameterString, ...]:
    """OrdersUri, TicketsUri and FeaturesUri, defaulting to the lake's folders."""
    return (
        ParameterString(name="OrdersUri", default_value=orders_uri()),
        ParameterString(name="TicketsUri", default_value=tickets_uri()),
        ParameterString(name="FeaturesUri", default_value=features_uri()),
    )


def lake_arguments(parameters: tuple[ParameterString, ...]) -> list[str | ParameterString]:
    """lake_parameters as the prepare and score steps' arguments (they read S3 themselves)."""
    orders, tickets, features = parameters
    return ["--orders", orders, "--tickets", tickets, "--features", features]
