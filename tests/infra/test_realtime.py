"""Realtime: the stream processor's MSK event source mapping from config, the raw-stream Glue
job and its scoped role, the Redshift streaming-ingestion resource, and their alarms."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from synthesized import TEST_ENV, Assembly, allow_statements, as_list, only, resources

from cdk_app.config import ConfigError, load_config, read_cdk_context
from contracts.events.topics import RAW_STREAM_GROUP_PREFIX
from contracts.warehouse import STREAMING_DIR
from stacks.constructs.raw_stream_job import RAW_STREAM_SCRIPT, RAW_STREAM_SOURCE

pytestmark = pytest.mark.infra

EVENTS = "ecommerce.events.v1"
DLQ = "ecommerce.events.dlq"


def _joined(value) -> str:
    """A string built with Fn::Join, pseudo parameters written as ${Name}."""
    if isinstance(value, str):
        return value
    return "".join(_text(part) for part in value["Fn::Join"][1])


def _text(part) -> str:
    if isinstance(part, str):
        return part
    if "Ref" in part:
        return "${" + part["Ref"] + "}"
    return part.get("Fn::Sub", str(part))


def _imported_output(value: dict) -> str:
    return value["Fn::GetStackOutput"]["OutputName"]


def _kafka_actions(grants: dict[str, set[str]]) -> dict[str, list[str]]:
    """Kafka actions by cluster resource (topic/..., group/...), from `_actions_by_resource`."""
    return {
        resource.rsplit(":", 1)[1]: sorted(a for a in actions if a.startswith("kafka-cluster:"))
        for resource, actions in grants.items()
        if resource.startswith("arn:${AWS::Partition}:kafka:")
    }


def _actions_by_resource(env: str, role_path: str, assembly: Assembly) -> dict[str, set[str]]:
    """Allowed actions of one role grouped by resource (ARNs flattened to text)."""
    grouped: dict[str, set[str]] = {}
    for path, statement in allow_statements(assembly.template(env, "Realtime")):
        if f"/{role_path}/" not in path:
            continue
        for resource in as_list(statement["Resource"]):
            key = resource if isinstance(resource, str) else str(resource)
            if isinstance(resource, dict) and "Fn::Join" in resource:
                key = _joined(resource)
            grouped.setdefault(key, set()).update(as_list(statement["Action"]))
    return grouped


@pytest.mark.parametrize(("env", "batch_size"), [("dev", 500), ("prod", 1000)])
def test_event_source_mapping_reads_the_events_topic_with_config_batching(
    assembly: Assembly, env: str, batch_size: int
):
    template = assembly.template(env, "Realtime")
    mapping = only(template, "AWS::Lambda::EventSourceMapping")["Properties"]
    assert mapping["Topics"] == [EVENTS]
    assert mapping["BatchSize"] == batch_size
    assert mapping["MaximumBatchingWindowInSeconds"] == 1
    assert mapping["StartingPosition"] == "TRIM_HORIZON"
    assert mapping["MaximumRetryAttempts"] == 10
    assert mapping["AmazonManagedKafkaEventSourceConfig"] == {
        "ConsumerGroupId": "ecommerce-stream-processor"
    }
    assert "ClusterArn" in _imported_output(mapping["EventSourceArn"])
    (queue_id,) = [i for i in resources(template, "AWS::SQS::Queue") if i.startswith("Failed")]
    assert mapping["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": [queue_id, "Arn"]
    }


def test_failed_batches_queue_is_encrypted_tls_only_and_keeps_messages_14_days(
    assembly: Assembly,
):
    template = assembly.template("dev", "Realtime")
    ((queue_id, queue),) = [
        (i, q["Properties"])
        for i, q in resources(template, "AWS::SQS::Queue").items()
        if i.startswith("FailedBatches")
    ]
    # SSE-KMS with SQS's AWS managed key: no key grant for the event source mapping to send.
    assert queue["KmsMasterKeyId"] == "alias/aws/sqs"
    assert queue["MessageRetentionPeriod"] == 14 * 24 * 3600
    (policy,) = [
        p["Properties"]
        for p in resources(template, "AWS::SQS::QueuePolicy").values()
        if p["Properties"]["Queues"] == [{"Ref": queue_id}]
    ]
    (deny,) = [s for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_processor_reads_events_writes_dead_letters_and_nothing_else_on_kafka(
    assembly: Assembly,
):
    grants = _actions_by_resource("dev", "StreamProcessorFunction", assembly)
    kafka = _kafka_actions(grants)
    assert kafka == {
        f"topic/ecommerce-dev/*/{EVENTS}": [
            "kafka-cluster:DescribeTopic",
            "kafka-cluster:ReadData",
        ],
        f"topic/ecommerce-dev/*/{DLQ}": ["kafka-cluster:DescribeTopic", "kafka-cluster:WriteData"],
        "group/ecommerce-dev/*/ecommerce-stream-processor": [
            "kafka-cluster:AlterGroup",
            "kafka-cluster:DescribeGroup",
        ],
    }
    function = next(
        f["Properties"]
        for f in resources(assembly.template("dev", "Realtime"), "AWS::Lambda::Function").values()
        if f["Properties"]["Handler"] == "lambdas.stream_processor.handler.handler"
    )
    environment = function["Environment"]["Variables"]
    assert environment["CART_ABANDONMENT_MINUTES"] == "30"
    assert environment["DEAD_LETTER_TOPIC"] == DLQ
    assert environment["KAFKA_AUTH"] == "iam"
    assert "DatabaseSecretAttachment" in _imported_output(environment["DATABASE_SECRET_ARN"])
    assert len(function["VpcConfig"]["SubnetIds"]) == 3


@pytest.mark.parametrize("function", ["StreamProcessorFunction", "RedshiftSqlFunction"])
def test_secret_keys_decrypt_only_through_secrets_manager(assembly: Assembly, function: str):
    decrypts = [
        statement
        for path, statement in allow_statements(assembly.template("dev", "Realtime"))
        if f"/{function}/" in path and "kms:Decrypt" in as_list(statement["Action"])
    ]
    assert decrypts
    for statement in decrypts:
        assert as_list(statement["Action"]) == ["kms:Decrypt"]
        via = statement["Condition"]["StringEquals"]["kms:ViaService"]
        assert _joined(via) == "secretsmanager.${AWS::Region}.amazonaws.com"


@pytest.mark.parametrize(
    ("env", "worker_type", "workers", "trigger"),
    [("dev", "G.025X", 2, "120"), ("prod", "G.1X", 4, "60")],
)
def test_raw_stream_job_is_glue_5_streaming_in_the_vpc_from_config(
    assembly: Assembly, env, worker_type, workers, trigger
):
    template = assembly.template(env, "Realtime")
    job = only(template, "AWS::Glue::Job")["Properties"]
    assert job["GlueVersion"] == "5.0"
    assert job["Command"]["Name"] == "gluestreaming"
    assert job["Command"]["ScriptLocation"]["Fn::Sub"].endswith(".py")
    assert (job["WorkerType"], job["NumberOfWorkers"]) == (worker_type, workers)
    assert job["ExecutionProperty"] == {"MaxConcurrentRuns": 1}
    assert job["Connections"] == {"Connections": [f"ecommerce-{env}-msk"]}
    arguments = job["DefaultArguments"]
    assert arguments["--topic"] == EVENTS
    assert arguments["--kafka_auth"] == "iam"
    assert arguments["--trigger_seconds"] == trigger
    assert arguments["--consumer_group_prefix"] == RAW_STREAM_GROUP_PREFIX
    assert _joined(arguments["--raw_uri"]) == (
        f"s3://ecommerce-{env}-raw-${{AWS::AccountId}}-${{AWS::Region}}"
    )
    assert _joined(arguments["--checkpoint_uri"]).endswith("/checkpoints/stream_events_to_raw")
    for asset in ("--extra-py-files", "--additional-python-modules"):
        assert arguments[asset]["Fn::Sub"].endswith(".zip"), asset
    connection = only(template, "AWS::Glue::Connection")["Properties"]["ConnectionInput"]
    assert connection["Name"] == f"ecommerce-{env}-msk"
    assert connection["ConnectionType"] == "KAFKA"
    assert connection["ConnectionProperties"]["KAFKA_SASL_MECHANISM"] == "AWS_MSK_IAM"
    assert connection["ConnectionProperties"]["KAFKA_SSL_ENABLED"] == "true"
    assert "SecurityGroupIdList" in connection["PhysicalConnectionRequirements"]
    security = only(template, "AWS::Glue::SecurityConfiguration")["Properties"]
    encryption = security["EncryptionConfiguration"]
    assert encryption["CloudWatchEncryption"]["CloudWatchEncryptionMode"] == "SSE-KMS"
    assert encryption["JobBookmarksEncryption"]["JobBookmarksEncryptionMode"] == "CSE-KMS"
    assert [e["S3EncryptionMode"] for e in encryption["S3Encryptions"]] == ["SSE-KMS"]
    assert job["SecurityConfiguration"] == {
        "Ref": next(iter(resources(template, "AWS::Glue::SecurityConfiguration")))
    }
    trigger_resource = only(template, "AWS::Glue::Trigger")["Properties"]
    assert (trigger_resource["Type"], trigger_resource["StartOnCreation"]) == ("SCHEDULED", True)


def test_raw_stream_role_writes_only_its_prefixes_and_reads_only_the_events_topic(
    assembly: Assembly,
):
    grants = _actions_by_resource("dev", "RawStreamJobRole", assembly)
    raw = "arn:${AWS::Partition}:s3:::ecommerce-dev-raw-${AWS::AccountId}-${AWS::Region}"
    artifacts = raw.replace("-raw-", "-artifacts-")
    writable = {
        resource
        for resource, actions in grants.items()
        if "s3:PutObject" in actions or "s3:DeleteObject" in actions
    }
    assert writable == {
        f"{raw}/events_stream*",
        f"{raw}/quarantine/events_stream*",
        f"{artifacts}/checkpoints/stream_events_to_raw*",
        f"{artifacts}/glue-temp/stream_events_to_raw*",
    }
    kafka = _kafka_actions(grants)
    assert kafka == {
        f"topic/ecommerce-dev/*/{EVENTS}": [
            "kafka-cluster:DescribeTopic",
            "kafka-cluster:ReadData",
        ],
        "group/ecommerce-dev/*/ecommerce-raw-stream*": [
            "kafka-cluster:AlterGroup",
            "kafka-cluster:DescribeGroup",
        ],
    }
    # The job's code is read object by object: the script and its two zips, no prefix.
    readable_assets = [
        resource
        for resource, actions in grants.items()
        if actions == {"s3:GetObject"} and "cdk-hnb659fds-assets" in resource
    ]
    assert len(readable_assets) == 3
    assert not any(resource.endswith("*") for resource in readable_assets)


def test_the_job_imports_nothing_its_package_asset_does_not_ship(tmp_path: Path):
    """The job runs from the packages zip alone: import it with only that zip's files (and
    the installed third-party modules) on the path, the project's own install hidden."""
    RAW_STREAM_SOURCE.copy_to(str(tmp_path))
    module = RAW_STREAM_SCRIPT.removesuffix(".py").replace("/", ".")
    hide_project_install = (
        "import sys; sys.meta_path[:] = [f for f in sys.meta_path if 'editable' not in"
        " (f if isinstance(f, type) else type(f)).__module__]; "
    )
    result = subprocess.run(
        [sys.executable, "-c", f"{hide_project_install}import {module}; print({module}.__file__)"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == str(tmp_path / RAW_STREAM_SCRIPT)


@pytest.mark.parametrize(
    ("env", "target"), [("dev", "WorkgroupName"), (TEST_ENV, "ClusterIdentifier")]
)
def test_streaming_ingestion_resource_carries_the_warehouse_and_msk_values(
    assembly: Assembly, env: str, target: str
):
    template = assembly.template(env, "Realtime")
    properties = only(template, "Custom::RedshiftStreamingIngestion")["Properties"]
    assert properties[target] == f"ecommerce-{env}"
    assert properties["Database"] == "analytics"
    assert properties["StatementTimeoutSeconds"] == "300"
    values = properties["Values"]
    assert values["EventsTopic"] == EVENTS
    assert "StreamingIngestionRole" in _imported_output(values["StreamingRoleArn"])
    assert "ClusterArn" in _imported_output(values["ClusterArn"])
    digest = hashlib.sha256()
    for path in sorted(STREAMING_DIR.glob("*.sql")):
        digest.update(f"{path.name}\0{path.read_text()}\0".encode())
    assert properties["ScriptsChecksum"] == digest.hexdigest()


def test_redshift_sql_function_only_runs_statements_with_the_admin_secret(assembly: Assembly):
    template = assembly.template("dev", "Realtime")
    actions = {
        action
        for path, statement in allow_statements(template)
        if "/RedshiftSqlFunction/" in path
        for action in as_list(statement["Action"])
    }
    assert actions == {
        "redshift-data:ExecuteStatement",
        "redshift-data:DescribeStatement",
        "redshift-data:CancelStatement",
        "secretsmanager:GetSecretValue",
        "kms:Decrypt",
        "sqs:SendMessage",  # its own dead-letter queue
    }
    (execute,) = [
        s
        for path, s in allow_statements(template)
        if "/RedshiftSqlFunction/" in path and s["Action"] == "redshift-data:ExecuteStatement"
    ]
    assert "WorkgroupArn" in _imported_output(execute["Resource"])


@pytest.mark.parametrize(("env", "records", "seconds"), [("dev", 5000, 300), ("prod", 50000, 120)])
def test_alarms_watch_lag_errors_throttles_and_parked_batches(
    assembly: Assembly, env: str, records: int, seconds: int
):
    template = assembly.template(env, "Monitoring")
    topic = {"Ref": next(iter(resources(template, "AWS::SNS::Topic")))}
    alarms = {
        a["Properties"]["MetricName"]: a["Properties"]
        for a in resources(template, "AWS::CloudWatch::Alarm").values()
        if "/RealTimeProcessing/" in a["Metadata"]["aws:cdk:path"]
    }
    assert set(alarms) == {
        "MaxOffsetLag",
        "EstimatedMaxTimeLag",
        "Errors",
        "Throttles",
        "ApproximateNumberOfMessagesVisible",
    }
    consumer = {
        "Cluster Name": f"ecommerce-{env}",
        "Consumer Group": "ecommerce-stream-processor",
        "Topic": EVENTS,
    }
    for name, threshold in (("MaxOffsetLag", records), ("EstimatedMaxTimeLag", seconds)):
        assert alarms[name]["Namespace"] == "AWS/Kafka"
        assert {d["Name"]: d["Value"] for d in alarms[name]["Dimensions"]} == consumer
        assert alarms[name]["Threshold"] == threshold
    for name in ("Errors", "Throttles", "ApproximateNumberOfMessagesVisible"):
        assert alarms[name]["Threshold"] == 0
    for alarm in alarms.values():
        assert alarm["AlarmActions"] == [topic]
        assert alarm["OKActions"] == [topic]


@pytest.mark.parametrize(
    ("realtime", "message"),
    [
        (
            {"batching_window_seconds": 120, "processor_timeout_seconds": 60},
            r"realtime\.processor_timeout_seconds: .*longer than batching_window_seconds",
        ),
        ({"batch_size": 0}, r"realtime\.batch_size: .*greater than or equal to 1"),
        ({"raw_stream_worker_type": "G.8X"}, r"realtime\.raw_stream_worker_type: "),
        ({"raw_stream_workers": 1}, r"realtime\.raw_stream_workers: "),
    ],
)
def test_bad_realtime_settings_name_the_key(realtime: dict, message: str):
    environments = read_cdk_context()["environments"]
    context = {"environments": {"dev": {**environments["dev"], "realtime": realtime}}}
    with pytest.raises(ConfigError, match=message):
        load_config("dev", context)
