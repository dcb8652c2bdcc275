"""OLTP: private encrypted PostgreSQL with rotated credentials, and the migrator wiring."""

from __future__ import annotations

import hashlib

import pytest
from synthesized import TEST_ENV, Assembly, allow_statements, as_list, only, resources

from contracts.oltp.migrator import MIGRATIONS_DIR

pytestmark = pytest.mark.infra


@pytest.mark.parametrize(
    ("env", "instance_class", "multi_az", "backup_days", "deletion_protection"),
    [("dev", "db.t4g.micro", False, 3, False), ("prod", "db.m7g.large", True, 14, True)],
)
def test_database_is_private_encrypted_and_sized_from_config(
    assembly: Assembly, env, instance_class, multi_az, backup_days, deletion_protection
):
    database = only(assembly.template(env, "Oltp"), "AWS::RDS::DBInstance")
    properties = database["Properties"]
    assert properties["Engine"] == "postgres"
    assert properties["EngineVersion"].split(".")[0] in {"16", "17"}
    assert properties["DBInstanceClass"] == instance_class
    assert properties["PubliclyAccessible"] is False
    assert properties["StorageEncrypted"] is True
    assert "Fn::GetAtt" in properties["KmsKeyId"]
    assert properties["EnableIAMDatabaseAuthentication"] is True
    assert properties["EnablePerformanceInsights"] is True
    assert properties["MultiAZ"] is multi_az
    assert properties["BackupRetentionPeriod"] == backup_days
    assert properties["DeletionProtection"] is deletion_protection
    assert "{{resolve:secretsmanager:" in properties["MasterUserPassword"]["Fn::Join"][1][0]


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_tls_is_forced_and_credentials_rotate_monthly(assembly: Assembly, env: str):
    template = assembly.template(env, "Oltp")
    parameters = only(template, "AWS::RDS::DBParameterGroup")["Properties"]["Parameters"]
    assert parameters["rds.force_ssl"] == "1"
    rotation = only(template, "AWS::SecretsManager::RotationSchedule")["Properties"]
    assert rotation["RotationRules"]["ScheduleExpression"] == "rate(30 days)"
    secret = only(template, "AWS::SecretsManager::Secret")
    assert "Fn::GetAtt" in secret["Properties"]["KmsKeyId"]


@pytest.mark.parametrize(
    ("env", "policy"), [("dev", "Retain"), ("prod", "Retain"), (TEST_ENV, "Delete")]
)
def test_retention_guard_covers_database_secret_key_and_logs(assembly: Assembly, env, policy):
    template = assembly.template(env, "Oltp")
    for resource_type in ("AWS::RDS::DBInstance", "AWS::SecretsManager::Secret"):
        resource = only(template, resource_type)
        assert resource["DeletionPolicy"] == policy, resource_type
        assert resource["UpdateReplacePolicy"] == policy, resource_type
    # The data key, and the logs key the exported log groups are encrypted with.
    keys = resources(template, "AWS::KMS::Key")
    assert len(keys) == 2
    assert len([i for i in keys if i.startswith("LogsKey")]) == 1
    for key in keys.values():
        assert (key["DeletionPolicy"], key["UpdateReplacePolicy"]) == (policy, policy)
    exported = [
        group
        for group in resources(template, "AWS::Logs::LogGroup").values()
        if group["Properties"].get("LogGroupName", "").startswith("/aws/rds/instance/")
    ]
    assert len(exported) == 2
    assert {group["DeletionPolicy"] for group in exported} == {policy}


def test_migrations_run_with_a_checksum_of_the_migration_files(assembly: Assembly):
    digest = hashlib.sha256()
    for path in sorted(MIGRATIONS_DIR.glob("V*.sql")):
        file_sum = hashlib.sha256(path.read_text().encode()).hexdigest()
        digest.update(f"{path.name}:{file_sum}\n".encode())
    template = assembly.template("dev", "Oltp")
    properties = only(template, "Custom::OltpMigrations")["Properties"]
    assert properties["MigrationsChecksum"] == digest.hexdigest()
    assert properties["DatabaseName"] == "ecommerce"
    assert properties["SslMode"] == "require"
    secret_attachment = only(template, "AWS::SecretsManager::SecretTargetAttachment")
    assert properties["SecretArn"] == {
        "Ref": next(
            logical_id
            for logical_id, resource in template["Resources"].items()
            if resource is secret_attachment
        )
    }


def test_migrator_is_a_thin_python_311_lambda_in_the_vpc_reading_only_its_secret(
    assembly: Assembly,
):
    template = assembly.template("dev", "Oltp")
    (function,) = [
        f
        for f in resources(template, "AWS::Lambda::Function").values()
        if f["Properties"].get("Handler") == "lambdas.db_migrator.handler.handler"
    ]
    assert function["Properties"]["Runtime"] == "python3.12"
    assert len(function["Properties"]["VpcConfig"]["SubnetIds"]) == 3
    actions = {
        action
        for path, statement in allow_statements(template)
        if "DbMigratorFunction" in path
        for action in as_list(statement["Action"])
    }
    # Its secret, and sending a failed asynchronous invocation to its own dead-letter queue.
    assert actions == {
        "secretsmanager:GetSecretValue",
        "secretsmanager:DescribeSecret",
        "sqs:SendMessage",
    }
    (send,) = [
        s
        for path, s in allow_statements(template)
        if "DbMigratorFunction" in path and s["Action"] == "sqs:SendMessage"
    ]
    assert send["Resource"]["Fn::GetAtt"][0].startswith("DbMigratorDeadLetters")
    # Decrypting the secret is granted by the key, and only through Secrets Manager.
    (data_key,) = [
        k for i, k in resources(template, "AWS::KMS::Key").items() if not i.startswith("LogsKey")
    ]
    key_policy = data_key["Properties"]["KeyPolicy"]
    (grant,) = [
        s for s in key_policy["Statement"] if "DbMigratorFunction" in str(s["Principal"].get("AWS"))
    ]
    assert grant["Action"] == "kms:Decrypt"
    assert "secretsmanager." in str(grant["Condition"]["StringEquals"]["kms:ViaService"])
