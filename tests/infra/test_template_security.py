"""The fixes behind checkov's findings, pinned on the templates: encrypted log groups, the
project functions' dead-letter queues and reserved concurrency, encrypted SSL-only queues, RDS
enhanced monitoring, and Glue's network-interface rights limited to the platform VPC."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Match, Template
from synthesized import REAL_ENVS, TEST_ENV, Assembly, allow_statements, as_list, resources

from stacks.constructs.python_lambda import DEAD_LETTERS_SUFFIX

pytestmark = pytest.mark.infra

ENVS = (*REAL_ENVS, TEST_ENV)
_LOGS_KEY_STATEMENT = {
    "Principal": {
        "Service": {"Fn::Join": ["", ["logs.", {"Ref": "AWS::Region"}, ".amazonaws.com"]]}
    },
    "Action": [
        "kms:Decrypt*",
        "kms:Describe*",
        "kms:Encrypt*",
        "kms:GenerateDataKey*",
        "kms:ReEncrypt*",
    ],
    "Condition": {
        "ArnLike": {
            "kms:EncryptionContext:aws:logs:arn": {
                "Fn::Join": [
                    "",
                    [
                        "arn:",
                        {"Ref": "AWS::Partition"},
                        ":logs:",
                        {"Ref": "AWS::Region"},
                        ":",
                        {"Ref": "AWS::AccountId"},
                        ":log-group:*",
                    ],
                ]
            }
        }
    },
}


@pytest.mark.parametrize("env", ENVS)
def test_every_log_group_uses_its_stacks_logs_key(assembly: Assembly, env: str):
    stacks_with_logs = set()
    for (_, stack), template in assembly.templates(env).items():
        log_groups = resources(template, "AWS::Logs::LogGroup")
        keys = [i for i in resources(template, "AWS::KMS::Key") if i.startswith("LogsKey")]
        if not log_groups:
            assert keys == [], f"{stack}: a logs key without log groups"
            continue
        stacks_with_logs.add(stack)
        (key,) = keys
        for logical_id, group in log_groups.items():
            assert group["Properties"]["KmsKeyId"] == {"Fn::GetAtt": [key, "Arn"]}, logical_id
        Template.from_json(template).has_resource_properties(
            "AWS::KMS::Key",
            {
                "EnableKeyRotation": True,
                "KeyPolicy": {
                    "Statement": Match.array_with([Match.object_like(_LOGS_KEY_STATEMENT)])
                },
            },
        )
    # Lambda logs everywhere; flow logs, RDS exports and API access logs in their stacks.
    assert {"Network", "Oltp", "Streaming", "Ingest", "Realtime"} <= stacks_with_logs


# (env, stack, function name) -> reserved concurrency: the collector, the recommendations API
# and the processor from their config sections, every other project function
# functions.default_reserved_concurrency.
_RESERVED = {
    ("dev", "Ingest", "Collector"): 10,
    ("prod", "Ingest", "Collector"): 100,
    ("dev", "Ingest", "Recommendations"): 20,
    ("prod", "Ingest", "Recommendations"): 20,
    ("dev", "Realtime", "StreamProcessor"): 3,
    ("prod", "Realtime", "StreamProcessor"): 12,
    ("dev", "Realtime", "RedshiftSql"): 5,
    ("dev", "Oltp", "DbMigrator"): 5,
    ("prod", "Streaming", "KafkaTopics"): 5,
    (TEST_ENV, "Oltp", "DbMigrator"): 2,
    (TEST_ENV, "Realtime", "StreamProcessor"): 3,
}
# functions.dead_letter_retention_days: 14 in dev and prod, 4 in TEST_ENV.
_DEAD_LETTER_DAYS = {"dev": 14, "prod": 14, TEST_ENV: 4}


@pytest.mark.parametrize(("env", "stack", "name"), list(_RESERVED))
def test_project_functions_have_a_dead_letter_queue_and_reserved_concurrency(
    assembly: Assembly, env: str, stack: str, name: str
):
    template = assembly.template(env, stack)
    queues = {
        i: q
        for i, q in resources(template, "AWS::SQS::Queue").items()
        if i.startswith(f"{name}{DEAD_LETTERS_SUFFIX}")
    }
    ((queue_id, queue),) = queues.items()
    assert queue["Properties"]["KmsMasterKeyId"] == "alias/aws/sqs"
    assert queue["Properties"]["MessageRetentionPeriod"] == _DEAD_LETTER_DAYS[env] * 24 * 3600
    Template.from_json(template).has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Handler": Match.string_like_regexp(r"^lambdas\."),
            "DeadLetterConfig": {"TargetArn": {"Fn::GetAtt": [queue_id, "Arn"]}},
            "ReservedConcurrentExecutions": _RESERVED[(env, stack, name)],
            "LoggingConfig": {"LogGroup": {"Ref": Match.string_like_regexp(f"^{name}Logs")}},
        },
    )
    _assert_ssl_only(template, queue_id)


def _assert_ssl_only(template: dict, queue_id: str) -> None:
    Template.from_json(template).has_resource_properties(
        "AWS::SQS::QueuePolicy",
        {
            "Queues": [{"Ref": queue_id}],
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Effect": "Deny",
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        )
                    ]
                )
            },
        },
    )


def test_failed_batches_queue_is_kms_encrypted_and_ssl_only(assembly: Assembly):
    template = assembly.template("prod", "Realtime")
    (queue_id,) = [
        i for i in resources(template, "AWS::SQS::Queue") if i.startswith("FailedBatches")
    ]
    assert template["Resources"][queue_id]["Properties"]["KmsMasterKeyId"] == "alias/aws/sqs"
    _assert_ssl_only(template, queue_id)


@pytest.mark.parametrize(("env", "interval"), [("dev", 60), ("prod", 60), (TEST_ENV, 15)])
def test_rds_enhanced_monitoring_from_config(assembly: Assembly, env: str, interval: int):
    template = assembly.template(env, "Oltp")
    (role_id,) = [i for i in resources(template, "AWS::IAM::Role") if "MonitoringRole" in i]
    Template.from_json(template).has_resource_properties(
        "AWS::RDS::DBInstance",
        {
            "MonitoringInterval": interval,
            "MonitoringRoleArn": {"Fn::GetAtt": [role_id, "Arn"]},
        },
    )
    trust = template["Resources"][role_id]["Properties"]["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Principal"] == {"Service": "monitoring.rds.amazonaws.com"}


@pytest.mark.parametrize(
    ("stack", "role"), [("Etl", "EtlJobRole"), ("Realtime", "RawStreamJobRole")]
)
def test_glue_network_interface_rights_are_limited_to_the_vpc(
    assembly: Assembly, stack: str, role: str
):
    template = assembly.template("dev", stack)
    statements = [s for path, s in allow_statements(template) if f"/{role}/" in path]
    writes = {"ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface"}
    tags = {"ec2:CreateTags", "ec2:DeleteTags"}
    for statement in statements:
        actions = set(as_list(statement["Action"]))
        if actions & (writes | tags):
            assert "*" not in as_list(statement["Resource"]), statement
    (interfaces,) = [s for s in statements if set(as_list(s["Action"])) == writes]
    assert list(interfaces["Condition"]) == ["ArnEquals"]
    (vpc_arn,) = interfaces["Condition"]["ArnEquals"].values()
    assert ":vpc/" in str(vpc_arn)
    (tagging,) = [s for s in statements if set(as_list(s["Action"])) == tags]
    assert tagging["Condition"] == {
        "ForAllValues:StringEquals": {"aws:TagKeys": ["aws-glue-service-resource"]}
    }
