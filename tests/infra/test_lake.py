"""Lake: every bucket private, TLS-only, encrypted, logged, with lifecycle; catalog per zone."""

from __future__ import annotations

import pytest
from synthesized import TEST_ENV, Assembly, construct_path, only, resources

pytestmark = pytest.mark.infra

DATA_BUCKETS = ("Raw", "Curated", "Marts", "Artifacts")


def _buckets(assembly: Assembly, env: str) -> dict[str, dict]:
    return {
        construct_path(bucket).split("/")[-1].removesuffix("Bucket"): bucket
        for bucket in resources(assembly.template(env, "Lake"), "AWS::S3::Bucket").values()
    }


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_every_bucket_blocks_public_access_and_denies_plain_http(assembly: Assembly, env: str):
    template = assembly.template(env, "Lake")
    buckets = _buckets(assembly, env)
    assert set(buckets) == {*DATA_BUCKETS, "AccessLogs"}
    for name, bucket in buckets.items():
        assert bucket["Properties"]["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }, name
        assert bucket["Properties"]["OwnershipControls"]["Rules"] == [
            {"ObjectOwnership": "BucketOwnerEnforced"}
        ]
    policies = resources(template, "AWS::S3::BucketPolicy").values()
    assert len(policies) == len(buckets)
    for policy in policies:
        (deny,) = [
            s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"
        ]
        assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        assert deny["Principal"] == {"AWS": "*"}


def test_data_buckets_use_the_lake_key_and_log_to_the_access_log_bucket(assembly: Assembly):
    buckets = _buckets(assembly, "dev")
    for name in DATA_BUCKETS:
        properties = buckets[name]["Properties"]
        (rule,) = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
        assert rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"]["Fn::GetAtt"][0].startswith(
            "LakeKey"
        )
        assert properties["LoggingConfiguration"]["LogFilePrefix"] == f"{name.lower()}/"
    # S3 server access logs can only be delivered to an SSE-S3 bucket.
    (rule,) = buckets["AccessLogs"]["Properties"]["BucketEncryption"][
        "ServerSideEncryptionConfiguration"
    ]
    assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}


def test_data_buckets_are_versioned_with_expiring_old_versions(assembly: Assembly):
    buckets = _buckets(assembly, "dev")
    versioned = {
        name
        for name, bucket in buckets.items()
        if bucket["Properties"].get("VersioningConfiguration") == {"Status": "Enabled"}
    }
    # Every data bucket; the access-log bucket only receives new, never rewritten, objects.
    assert versioned == {"Raw", "Curated", "Marts", "Artifacts"}
    rules = {
        name: {rule["Id"]: rule for rule in bucket["Properties"]["LifecycleConfiguration"]["Rules"]}
        for name, bucket in buckets.items()
    }
    assert all("abort-incomplete-uploads" in found for found in rules.values())
    assert rules["Raw"]["tier-raw-landings"]["Transitions"] == [
        {"StorageClass": "STANDARD_IA", "TransitionInDays": 30},
        {"StorageClass": "GLACIER_IR", "TransitionInDays": 180},
    ]
    for name in versioned:
        assert rules[name]["expire-noncurrent-versions"]["NoncurrentVersionExpiration"] == {
            "NoncurrentDays": 30
        }
    assert "expire-noncurrent-versions" not in rules["AccessLogs"]
    assert rules["AccessLogs"]["expire-logs"]["ExpirationInDays"] == 365


def test_bucket_names_are_predictable_per_env(assembly: Assembly):
    name = _buckets(assembly, "prod")["Marts"]["Properties"]["BucketName"]["Fn::Join"][1]
    assert name == ["ecommerce-prod-marts-", {"Ref": "AWS::AccountId"}, "-", {"Ref": "AWS::Region"}]


def test_glue_catalog_has_one_database_per_zone(assembly: Assembly):
    databases = resources(assembly.template("dev", "Lake"), "AWS::Glue::Database").values()
    assert sorted(d["Properties"]["DatabaseInput"]["Name"] for d in databases) == [
        "ecommerce_dev_curated",
        "ecommerce_dev_marts",
        "ecommerce_dev_raw",
    ]


@pytest.mark.parametrize(
    ("env", "policy"), [("dev", "Retain"), ("prod", "Retain"), (TEST_ENV, "Delete")]
)
def test_retention_guard_on_buckets_and_key(assembly: Assembly, env: str, policy: str):
    template = assembly.template(env, "Lake")
    for bucket in _buckets(assembly, env).values():
        assert (bucket["DeletionPolicy"], bucket["UpdateReplacePolicy"]) == (policy, policy)
    assert only(template, "AWS::KMS::Key")["DeletionPolicy"] == policy
    # Emptying buckets on delete only exists when data may be destroyed.
    auto_delete = resources(template, "Custom::S3AutoDeleteObjects")
    assert len(auto_delete) == (5 if policy == "Delete" else 0)
