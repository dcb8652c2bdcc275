"""Lake: S3 zones (raw, curated, marts), artifacts/scripts and access logs, plus the Glue
Data Catalog databases that name the zones for Glue, Athena and Redshift Spectrum."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_cdk import Aws, CfnOutput, Duration
from aws_cdk import aws_glue as glue
from aws_cdk import aws_s3 as s3
from constructs import Construct

from contracts.lake import ZONES
from stacks.constructs.keys import data_key
from stacks.platform_stack import PlatformStack
from stacks.retention import data_removal_policy

# Predictable names: jobs and operators find a zone without reading stack outputs.
BUCKET_NAME = "ecommerce-{env}-{role}-{account}-{region}"
_ABORT_UPLOADS = s3.LifecycleRule(
    id="abort-incomplete-uploads", abort_incomplete_multipart_upload_after=Duration.days(7)
)


@dataclass(frozen=True)
class _BucketRole:
    name: str
    description: str


# Every data bucket is versioned: curated and marts can be recomputed from raw, but a job bug
# that overwrites or deletes a partition is undone by restoring the previous versions, which
# expire after lake.noncurrent_version_expiration_days.
_BUCKETS = (
    _BucketRole("raw", "Raw zone: events and OLTP extracts as landed"),
    _BucketRole("curated", "Curated zone: cleaned, conformed Parquet"),
    _BucketRole("marts", "Marts zone: business-level tables for Redshift"),
    _BucketRole("artifacts", "Glue scripts, model artifacts, pipeline outputs"),
)


class LakeStack(PlatformStack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        config = self.config
        removal = data_removal_policy(config)
        destroy = config.destroy_data
        self.key = data_key(self, "LakeKey", config, "Data lake buckets")
        # S3 server access logging can only deliver to an SSE-S3 bucket, never SSE-KMS.
        self.access_logs = s3.Bucket(
            self,
            "AccessLogsBucket",
            bucket_name=self.bucket_name("access-logs"),
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            removal_policy=removal,
            auto_delete_objects=destroy,
            lifecycle_rules=[
                _ABORT_UPLOADS,
                s3.LifecycleRule(
                    id="expire-logs",
                    expiration=Duration.days(config.lake.access_log_expiration_days),
                ),
            ],
        )
        self.buckets: dict[str, s3.Bucket] = {
            role.name: self._bucket(role, removal) for role in _BUCKETS
        }
        self.catalog_databases = {
            zone: glue.CfnDatabase(
                self,
                f"{zone.title()}Database",
                catalog_id=self.account,
                database_input=glue.CfnDatabase.DatabaseInputProperty(
                    name=self.catalog_database_name(zone),
                    description=f"{zone} zone of the e-commerce lake ({config.env_name})",
                    location_uri=self.buckets[zone].s3_url_for_object(),
                ),
            )
            for zone in ZONES
        }
        self._outputs()

    def catalog_database_name(self, zone: str) -> str:
        return f"ecommerce_{self.config.env_name}_{zone}"

    def bucket_name(self, role: str) -> str:
        return BUCKET_NAME.format(
            env=self.config.env_name, role=role, account=Aws.ACCOUNT_ID, region=Aws.REGION
        )

    def bucket_arn(self, role: str) -> str:
        """The bucket's ARN built from its name, so other stacks need no cross-stack reference."""
        return f"arn:{Aws.PARTITION}:s3:::{self.bucket_name(role)}"

    def _bucket(self, role: _BucketRole, removal) -> s3.Bucket:
        lake = self.config.lake
        rules = [
            _ABORT_UPLOADS,
            s3.LifecycleRule(
                id="expire-noncurrent-versions",
                noncurrent_version_expiration=Duration.days(
                    lake.noncurrent_version_expiration_days
                ),
            ),
        ]
        if role.name == "raw":
            rules.append(
                s3.LifecycleRule(
                    id="tier-raw-landings",
                    transitions=[
                        s3.Transition(
                            storage_class=s3.StorageClass.INFREQUENT_ACCESS,
                            transition_after=Duration.days(lake.raw_infrequent_access_days),
                        ),
                        s3.Transition(
                            storage_class=s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
                            transition_after=Duration.days(lake.raw_glacier_days),
                        ),
                    ],
                )
            )
        return s3.Bucket(
            self,
            f"{role.name.title()}Bucket",
            bucket_name=self.bucket_name(role.name),
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.key,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            versioned=True,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix=f"{role.name}/",
            lifecycle_rules=rules,
            removal_policy=removal,
            auto_delete_objects=self.config.destroy_data,
        )

    def _outputs(self) -> None:
        for role in _BUCKETS:
            CfnOutput(
                self,
                f"{role.name.title()}BucketName",
                value=self.buckets[role.name].bucket_name,
                description=role.description,
            )
        CfnOutput(
            self,
            "AccessLogsBucketName",
            value=self.access_logs.bucket_name,
            description="S3 server access logs of the lake buckets",
        )
        CfnOutput(
            self, "LakeKeyArn", value=self.key.key_arn, description="KMS key of the lake buckets"
        )
        for zone in ZONES:
            CfnOutput(
                self,
                f"{zone.title()}CatalogDatabase",
                value=self.catalog_database_name(zone),
                description=f"Glue Data Catalog database of the {zone} zone",
            )
