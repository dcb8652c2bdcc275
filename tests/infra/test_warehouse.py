"""Warehouse: private encrypted Redshift in both modes; COPY and streaming roles scoped."""

from __future__ import annotations

import pytest
from synthesized import TEST_ENV, Assembly, allow_statements, as_list, only

pytestmark = pytest.mark.infra


@pytest.mark.parametrize(("env", "rpu"), [("dev", 8), ("prod", 32)])
def test_serverless_workgroup_is_private_with_enhanced_vpc_routing(assembly: Assembly, env, rpu):
    template = assembly.template(env, "Warehouse")
    workgroup = only(template, "AWS::RedshiftServerless::Workgroup")["Properties"]
    assert workgroup["BaseCapacity"] == rpu
    assert workgroup["PubliclyAccessible"] is False
    assert workgroup["EnhancedVpcRouting"] is True
    assert len(workgroup["SubnetIds"]) == 3
    assert {"ParameterKey": "require_ssl", "ParameterValue": "true"} in workgroup[
        "ConfigParameters"
    ]


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_namespace_encrypted_with_managed_admin_secret_and_audit_logs(assembly: Assembly, env):
    namespace = only(assembly.template(env, "Warehouse"), "AWS::RedshiftServerless::Namespace")
    properties = namespace["Properties"]
    assert properties["ManageAdminPassword"] is True
    assert properties["KmsKeyId"]["Fn::GetAtt"][0].startswith("WarehouseKey")
    assert properties["AdminPasswordSecretKmsKeyId"] == properties["KmsKeyId"]
    assert properties["AdminUsername"] != "admin"
    assert set(properties["LogExports"]) == {"userlog", "connectionlog", "useractivitylog"}
    assert len(properties["IamRoles"]) == 2
    assert namespace["DeletionPolicy"] == "Retain"


def test_provisioned_option_is_private_encrypted_and_destroyable_under_destroy_data(
    assembly: Assembly,
):
    template = assembly.template(TEST_ENV, "Warehouse")
    cluster = only(template, "AWS::Redshift::Cluster")
    properties = cluster["Properties"]
    assert properties["Encrypted"] is True
    assert properties["PubliclyAccessible"] is False
    assert properties["EnhancedVpcRouting"] is True
    assert properties["ManageMasterPassword"] is True
    assert properties["ClusterType"] == "single-node"
    assert properties["LoggingProperties"]["LogDestinationType"] == "cloudwatch"
    parameters = only(template, "AWS::Redshift::ClusterParameterGroup")["Properties"]["Parameters"]
    assert {"ParameterName": "require_ssl", "ParameterValue": "true"} in parameters
    assert cluster["DeletionPolicy"] == "Delete"


def _role_statements(env: str, role: str, assembly: Assembly) -> list[dict]:
    return [
        s
        for path, s in allow_statements(assembly.template(env, "Warehouse"))
        if f"/{role}/" in path
    ]


def _joined(resource) -> str:
    """An ARN built with Fn::Join, pseudo parameters written as ${Name}."""
    parts = resource["Fn::Join"][1]
    return "".join(p if isinstance(p, str) else "${" + p["Ref"] + "}" for p in parts)


def test_copy_role_reads_only_the_three_zone_buckets(assembly: Assembly):
    statements = _role_statements("dev", "CopyRole", assembly)
    actions = {a for s in statements for a in as_list(s["Action"])}
    assert actions == {"s3:ListBucket", "s3:GetBucketLocation", "s3:GetObject", "kms:Decrypt"}
    (objects,) = [s for s in statements if s["Action"] == "s3:GetObject"]
    suffix = "-${AWS::AccountId}-${AWS::Region}/*"
    assert sorted(_joined(r) for r in objects["Resource"]) == [
        f"arn:${{AWS::Partition}}:s3:::ecommerce-dev-{zone}{suffix}"
        for zone in ("curated", "marts", "raw")
    ]


def test_streaming_role_reads_only_the_events_topic(assembly: Assembly):
    statements = _role_statements("dev", "StreamingIngestionRole", assembly)
    (read,) = [s for s in statements if "kafka-cluster:ReadData" in as_list(s["Action"])]
    assert sorted(as_list(read["Action"])) == [
        "kafka-cluster:DescribeTopic",
        "kafka-cluster:ReadData",
    ]
    assert _joined(read["Resource"]).endswith(":topic/ecommerce-dev/*/ecommerce.events.v1")
    written = {a for s in statements for a in as_list(s["Action"]) if "Write" in a or "Create" in a}
    assert not written
