"""Streaming: MSK with IAM auth and TLS in both modes, topics from config, retention guard."""

from __future__ import annotations

import pytest
from synthesized import TEST_ENV, Assembly, allow_statements, as_list, only

pytestmark = pytest.mark.infra


def test_dev_runs_msk_serverless_with_iam_auth_in_three_private_subnets(assembly: Assembly):
    cluster = only(assembly.template("dev", "Streaming"), "AWS::MSK::ServerlessCluster")
    properties = cluster["Properties"]
    assert properties["ClusterName"] == "ecommerce-dev"
    assert properties["ClientAuthentication"] == {"Sasl": {"Iam": {"Enabled": True}}}
    (vpc_config,) = properties["VpcConfigs"]
    assert len(vpc_config["SubnetIds"]) == 3
    assert cluster["DeletionPolicy"] == "Retain"


def test_prod_runs_provisioned_msk_encrypted_with_tls_only(assembly: Assembly):
    cluster = only(assembly.template("prod", "Streaming"), "AWS::MSK::Cluster")
    properties = cluster["Properties"]
    assert properties["KafkaVersion"] == "3.9.x"
    assert properties["NumberOfBrokerNodes"] == 3
    assert properties["BrokerNodeGroupInfo"]["InstanceType"] == "kafka.m7g.large"
    assert properties["BrokerNodeGroupInfo"]["StorageInfo"]["EBSStorageInfo"]["VolumeSize"] == 500
    assert properties["ClientAuthentication"] == {
        "Sasl": {"Iam": {"Enabled": True}},
        "Unauthenticated": {"Enabled": False},
    }
    encryption = properties["EncryptionInfo"]
    assert encryption["EncryptionInTransit"] == {"ClientBroker": "TLS", "InCluster": True}
    assert "Fn::GetAtt" in encryption["EncryptionAtRest"]["DataVolumeKMSKeyId"]
    assert properties["LoggingInfo"]["BrokerLogs"]["CloudWatchLogs"]["Enabled"] is True
    assert cluster["DeletionPolicy"] == "Retain"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ("dev", [("ecommerce.events.v1", "3", "72"), ("ecommerce.events.dlq", "1", "168")]),
        ("prod", [("ecommerce.events.v1", "12", "168"), ("ecommerce.events.dlq", "3", "336")]),
    ],
)
def test_topics_custom_resource_carries_config(assembly: Assembly, env: str, expected):
    topics = only(assembly.template(env, "Streaming"), "Custom::KafkaTopics")["Properties"]
    assert [(t["Name"], t["Partitions"], t["RetentionHours"]) for t in topics["Topics"]] == expected
    assert topics["BootstrapServers"]["Fn::GetAtt"][1] == "BootstrapBrokerStringSaslIam"
    assert topics["DeleteTopicsOnDelete"] == "false"


def _topic_actions(env: str, assembly: Assembly) -> set[str]:
    return {
        action
        for path, statement in allow_statements(assembly.template(env, "Streaming"))
        if "KafkaTopicsFunction" in path
        for action in as_list(statement["Action"])
    }


def test_topics_are_deleted_with_the_stack_only_under_destroy_data(assembly: Assembly):
    assert "kafka-cluster:DeleteTopic" not in _topic_actions("dev", assembly)
    assert "kafka-cluster:DeleteTopic" in _topic_actions(TEST_ENV, assembly)
    ephemeral = assembly.template(TEST_ENV, "Streaming")
    assert only(ephemeral, "Custom::KafkaTopics")["Properties"]["DeleteTopicsOnDelete"] == "true"
    assert only(ephemeral, "AWS::MSK::ServerlessCluster")["DeletionPolicy"] == "Delete"


def test_bootstrap_brokers_are_read_back_with_a_scoped_sdk_call(assembly: Assembly):
    template = assembly.template("dev", "Streaming")
    lookup = only(template, "Custom::AWS")["Properties"]["Create"]["Fn::Join"][1][0]
    assert '"action":"getBootstrapBrokers"' in lookup
    assert template["Outputs"]["BootstrapBrokers"]["Value"]["Fn::GetAtt"][1] == (
        "BootstrapBrokerStringSaslIam"
    )
    (statement,) = [s for path, s in allow_statements(template) if "BootstrapBrokersLookup" in path]
    assert statement["Action"] == "kafka:GetBootstrapBrokers"
    assert statement["Resource"] == {"Fn::GetAtt": ["Cluster", "Arn"]}
