"""ETL: the batch Glue jobs and the workflow that runs them.

- four Glue 5.0 jobs (extract_oltp -> curate_events -> build_marts -> load_warehouse), each an
  entry script asset plus the project packages (--extra-py-files) and pinned wheels, and
  build_recommendations beside load_warehouse (it loads the OLTP database's reco schema);
- a JDBC connection that places extract_oltp and build_recommendations in the VPC, next to
  the OLTP database;
- a workflow: a scheduled trigger (cron from config) starts extract, and each later job starts
  when the previous one succeeded. The quality gate runs inside every job that has rules;
- one Glue Data Quality ruleset per checked table, rendered from contracts/quality;
- a crawler per zone that keeps the checked tables (and the quality results) in the zone's
  catalog database, run after build_marts, so the rulesets' tables exist for Glue Data
  Quality, Athena and Redshift Spectrum;
- a notification for every failed, timed-out or errored run (Glue's job state events), and an
  alarm on run duration per job.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from itertools import pairwise
from typing import Any

from aws_cdk import Aws, CfnOutput, Duration
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_events as events
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from constructs import Construct

from contracts.lake import (
    JOB_ZONES,
    QUALITY_METRICS_NAMESPACE,
    QUALITY_RESULTS,
    RAW_EVENTS,
    RAW_STREAM_EVENTS,
    RECO_MARTS_PREFIX,
    STATE_FOLDER,
    ZONES,
    job_table_folder,
)
from contracts.quality.dqdl import job_rulesets
from stacks.constructs.alarms import AlarmSpec
from stacks.constructs.glue_assets import (
    GlueJobAssets,
    glue_connection_statements,
    glue_job_assets,
    glue_metrics_statement,
)
from stacks.constructs.glue_security import GlueEncryption, glue_encryption, glue_vpc_connection
from stacks.constructs.keys import decrypt_through_secrets_manager
from stacks.constructs.python_lambda import LambdaSource
from stacks.foundation import Foundation
from stacks.lake import LakeStack
from stacks.monitoring import MonitoringStack
from stacks.network import NetworkStack
from stacks.oltp import OltpStack
from stacks.platform_stack import PlatformStack
from stacks.warehouse import WarehouseStack

ETL_SOURCE = LambdaSource(
    paths=(
        "glue_jobs",
        "contracts/__init__.py",
        "contracts/database.py",
        "contracts/events",
        "contracts/lake.py",
        "contracts/marts.py",
        "contracts/marts.yaml",
        "contracts/quality",
        "contracts/shopper_signals.py",
        "contracts/warehouse",
    ),
    requirements="glue_jobs/requirements.txt",
)
# Run order of the workflow; each name is also the entry script glue_jobs/<name>.py.
BATCH_JOBS = ("extract_oltp", "curate_events", "build_marts", "load_warehouse")
# Starts with load_warehouse once build_marts succeeded (it needs the same lake inputs).
RECOMMENDATION_JOB = "build_recommendations"
ETL_JOBS = (*BATCH_JOBS, RECOMMENDATION_JOB)
# Jobs that reach the OLTP database through the JDBC connection.
VPC_JOBS = ("extract_oltp", RECOMMENDATION_JOB)
# Days at the end of the data the recommendations job evaluates its models on.
RECOMMENDATION_HOLDOUT_DAYS = 7
# Run states of Glue's "Glue Job State Change" events that mean the run did not succeed.
FAILED_RUN_STATES = ["FAILED", "TIMEOUT", "ERROR"]
# What a crawler does in the catalog: read its database, create and update its tables and their
# partitions.
CRAWLER_CATALOG_ACTIONS = [
    "glue:GetDatabase",
    "glue:GetTable",
    "glue:GetTables",
    "glue:CreateTable",
    "glue:UpdateTable",
    "glue:GetPartition",
    "glue:GetPartitions",
    "glue:BatchGetPartition",
    "glue:CreatePartition",
    "glue:BatchCreatePartition",
    "glue:UpdatePartition",
    "glue:BatchUpdatePartition",
]
# Spark's commit markers and checksums are not data.
CRAWL_EXCLUSIONS = ["**/_SUCCESS", "**/_temporary/**", "**.crc"]
GLUE_TEMP_PREFIX = "glue-temp/etl"
LAKE_BUCKETS = (*ZONES, "artifacts")
_FIVE_MINUTES = Duration.minutes(5)
_GT = cw.ComparisonOperator.GREATER_THAN_THRESHOLD


class EtlStack(PlatformStack):
    def __init__(
        self, scope: Construct, construct_id: str, *, foundation: Foundation, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        oltp, lake, warehouse = foundation.oltp, foundation.lake, foundation.warehouse
        connection = self._jdbc_connection(foundation.network, oltp)
        encryption = glue_encryption(
            self,
            self.config,
            key_id="EtlKey",
            key_purpose="Batch Glue job logs",
            configuration_id="EtlSecurity",
            configuration_name=f"{self.prefix}-etl",
            lake_key=lake.key,
        )
        assets = {
            job: glue_job_assets(self, _pascal(job), f"glue_jobs/{job}.py", ETL_SOURCE)
            for job in ETL_JOBS
        }
        shared = self._shared_statements(foundation.network, oltp, encryption)
        self.role = self._job_role(lake, warehouse, shared, [assets[job] for job in BATCH_JOBS])
        self.recommendation_role = self._recommendation_role(
            lake, shared, assets[RECOMMENDATION_JOB]
        )
        roles = dict.fromkeys(BATCH_JOBS, self.role) | {
            RECOMMENDATION_JOB: self.recommendation_role
        }
        arguments = self._job_arguments(lake, oltp, warehouse)
        self.jobs = {
            job: self._job(
                job, roles[job], assets[job], encryption.security_configuration, arguments[job]
            )
            for job in ETL_JOBS
        }
        for job in VPC_JOBS:
            self.jobs[job].node.add_dependency(connection)
        self.crawlers = self._catalog_crawlers(lake, encryption)
        self.workflow = self._workflow()
        self.rulesets = self._rulesets(lake)
        self._alarms(foundation.monitoring)
        self._outputs()

    @property
    def connection_name(self) -> str:
        return f"{self.prefix}-oltp-jdbc"

    def job_name(self, job: str) -> str:
        return f"{self.prefix}-{job.replace('_', '-')}"

    def _jdbc_connection(self, network: NetworkStack, oltp: OltpStack) -> glue.CfnConnection:
        """JDBC to the OLTP database over TLS, credentials from its secret; the workers sit in
        a private subnet with a group the database and the endpoints admit."""
        url = (
            f"jdbc:postgresql://{oltp.database.instance.db_instance_endpoint_address}:"
            f"{oltp.database.instance.db_instance_endpoint_port}/{oltp.database.name}"
        )
        connection, workers = glue_vpc_connection(
            self,
            "OltpConnection",
            network=network,
            workers_group_id="EtlJobSg",
            workers_description="batch Glue jobs",
            name=self.connection_name,
            description="OLTP PostgreSQL over TLS, from the platform's private subnets",
            connection_type="JDBC",
            properties={
                "JDBC_CONNECTION_URL": url,
                "JDBC_ENFORCE_SSL": "true",
                "SECRET_ID": oltp.database.secret.secret_arn,
            },
        )
        oltp.database.admit_clients(workers)
        return connection

    def _job_arguments(
        self, lake: LakeStack, oltp: OltpStack, warehouse: WarehouseStack
    ) -> dict[str, dict[str, str]]:
        """Each job's own arguments (glue_jobs/<job>.py documents them); the jobs with rules
        also get the quality gate's results table and metrics namespace."""
        raw, curated, marts = (f"s3://{lake.bucket_name(zone)}" for zone in JOB_ZONES.values())
        state = f"s3://{lake.bucket_name('artifacts')}/{STATE_FOLDER}"
        temp = {"--TempDir": f"s3://{lake.bucket_name('artifacts')}/{GLUE_TEMP_PREFIX}/"}
        gate = {
            **temp,
            "--quality_results_uri": f"{marts}/{QUALITY_RESULTS}",
            "--metrics_namespace": QUALITY_METRICS_NAMESPACE,
        }
        target = (
            {"--workgroup_name": warehouse.name}
            if self.config.warehouse.mode == "serverless"
            else {"--cluster_identifier": warehouse.name}
        )
        return {
            "extract_oltp": {
                **gate,
                "--raw_uri": raw,
                "--state_uri": state,
                "--database_secret_id": oltp.database.secret.secret_arn,
            },
            "curate_events": {
                **gate,
                "--events_path": f"{raw}/{RAW_EVENTS}/",
                "--stream_events_path": f"{raw}/{RAW_STREAM_EVENTS}/",
                "--curated_uri": curated,
                "--allowed_lateness_hours": str(self.config.etl.allowed_lateness_hours),
                "--state_uri": state,
            },
            "build_marts": {
                **gate,
                "--raw_uri": raw,
                "--curated_uri": curated,
                "--marts_uri": marts,
            },
            RECOMMENDATION_JOB: {
                **temp,
                "--raw_uri": raw,
                "--curated_uri": curated,
                "--marts_uri": marts,
                "--database_secret_id": oltp.database.secret.secret_arn,
                "--holdout_days": str(RECOMMENDATION_HOLDOUT_DAYS),
            },
            "load_warehouse": {
                **temp,
                "--marts_uri": marts,
                "--curated_uri": curated,
                "--database": self.config.warehouse.database_name,
                **target,
                "--secret_arn": warehouse.admin_secret_arn,
                "--copy_role": warehouse.copy_role.role_arn,
            },
        }

    def _job(
        self,
        job: str,
        role: iam.Role,
        assets: GlueJobAssets,
        security_configuration: glue.CfnSecurityConfiguration,
        arguments: dict[str, str],
    ) -> glue.CfnJob:
        etl = self.config.etl
        connections = (
            glue.CfnJob.ConnectionsListProperty(connections=[self.connection_name])
            if job in VPC_JOBS
            else None
        )
        return glue.CfnJob(
            self,
            f"{_pascal(job)}Job",
            name=self.job_name(job),
            description=f"Batch job glue_jobs/{job}.py (workflow {self.prefix}-batch)",
            role=role.role_arn,
            command=assets.command("glueetl"),
            glue_version="5.0",
            worker_type=etl.worker_type,
            number_of_workers=etl.workers,
            timeout=etl.timeout_minutes,
            max_retries=0,
            connections=connections,
            security_configuration=security_configuration.ref,
            execution_property=glue.CfnJob.ExecutionPropertyProperty(max_concurrent_runs=1),
            default_arguments={
                **assets.default_arguments(),
                # Bookmarks off: extract keeps its own watermarks and curate its manifest of
                # curated raw objects (both under the state prefix), read by the same code
                # locally, so a rerun is deterministic.
                "--job-bookmark-option": "job-bookmark-disable",
                **arguments,
            },
        )

    def _shared_statements(
        self, network: NetworkStack, oltp: OltpStack, encryption: GlueEncryption
    ) -> list[iam.PolicyStatement]:
        """What every ETL job needs: the job keys and log groups, the OLTP secret (read only)
        and the JDBC connection's network interfaces."""
        statements = [
            *encryption.role_statements(),
            iam.PolicyStatement(
                actions=["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                resources=[oltp.database.secret.secret_arn],
            ),
            *glue_connection_statements(self.connection_name, network.vpc),
        ]
        if oltp.database.secret.encryption_key is not None:
            statements.append(
                decrypt_through_secrets_manager(oltp.database.secret.encryption_key.key_arn)
            )
        return statements

    def _job_role(
        self,
        lake: LakeStack,
        warehouse: WarehouseStack,
        shared: list[iam.PolicyStatement],
        assets: Iterable[GlueJobAssets],
    ) -> iam.Role:
        """One role for the four batch jobs: the lake and artifacts buckets, the quality
        metrics, and the Data API on the warehouse for the load."""
        role = iam.Role(
            self,
            "EtlJobRole",
            assumed_by=iam.ServicePrincipal("glue.amazonaws.com"),
            description="Batch Glue jobs: OLTP and raw events -> lake zones -> Redshift",
        )
        for job_assets in assets:
            job_assets.grant_read(role)
        buckets = [lake.bucket_arn(role_name) for role_name in LAKE_BUCKETS]
        statements = [
            iam.PolicyStatement(actions=["s3:ListBucket"], resources=buckets),
            iam.PolicyStatement(
                actions=["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                resources=[f"{bucket}/*" for bucket in buckets],
            ),
            glue_metrics_statement(QUALITY_METRICS_NAMESPACE),
            *shared,
        ]
        for statement in statements:
            role.add_to_policy(statement)
        # load_warehouse reads each table's columns (ExecuteStatement and its result), then
        # sends each load as one transaction (BatchExecuteStatement).
        warehouse.grant_data_api(
            role,
            "redshift-data:ExecuteStatement",
            "redshift-data:BatchExecuteStatement",
            read_results=True,
        )
        return role

    def _recommendation_role(
        self, lake: LakeStack, shared: list[iam.PolicyStatement], assets: GlueJobAssets
    ) -> iam.Role:
        """build_recommendations' own role: it reads the raw and curated zones and replaces
        only its reco_* tables in the marts zone (and its Spark temp files); nothing of the
        warehouse, the other marts or the quality metrics."""
        role = iam.Role(
            self,
            "RecommendationJobRole",
            assumed_by=iam.ServicePrincipal("glue.amazonaws.com"),
            description="build_recommendations: lake events and orders -> reco tables",
        )
        assets.grant_read(role)
        raw, curated, marts = (lake.bucket_arn(zone) for zone in JOB_ZONES.values())
        temp = f"{lake.bucket_arn('artifacts')}/{GLUE_TEMP_PREFIX}"
        statements = [
            iam.PolicyStatement(
                actions=["s3:ListBucket"],
                resources=[raw, curated, marts, lake.bucket_arn("artifacts")],
            ),
            iam.PolicyStatement(actions=["s3:GetObject"], resources=[f"{raw}/*", f"{curated}/*"]),
            iam.PolicyStatement(
                actions=["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                # Spark's folder markers (reco_x_$folder$) share the prefix.
                resources=[f"{marts}/{RECO_MARTS_PREFIX}*", f"{temp}/*"],
            ),
            glue_metrics_statement(),
            *shared,
        ]
        for statement in statements:
            role.add_to_policy(statement)
        return role

    def crawled_tables(self, job: str) -> list[str]:
        """The catalog tables the crawler of `job`'s zone keeps: its checked tables, and for
        build_marts the quality results too."""
        tables = list(job_rulesets(job))
        return [*tables, QUALITY_RESULTS] if job == "build_marts" else tables

    def _catalog_crawlers(
        self, lake: LakeStack, encryption: GlueEncryption
    ) -> dict[str, glue.CfnCrawler]:
        """One crawler per zone, over the folders of the tables it keeps (schema changes
        update the tables; a vanished folder is only logged, never deleted)."""
        role = iam.Role(
            self,
            "CatalogCrawlerRole",
            assumed_by=iam.ServicePrincipal("glue.amazonaws.com"),
            description="Crawls the lake's checked tables into the zone catalog databases",
        )
        catalog = f"arn:{Aws.PARTITION}:glue:{Aws.REGION}:{Aws.ACCOUNT_ID}"
        crawlers = {}
        for job, zone in JOB_ZONES.items():
            database = lake.catalog_database_name(zone)
            folders = [job_table_folder(job, table) for table in self.crawled_tables(job)]
            bucket = lake.bucket_arn(zone)
            for statement in (
                iam.PolicyStatement(actions=["s3:ListBucket"], resources=[bucket]),
                iam.PolicyStatement(actions=["s3:GetObject"], resources=[f"{bucket}/*"]),
                iam.PolicyStatement(
                    actions=CRAWLER_CATALOG_ACTIONS,
                    resources=[
                        f"{catalog}:catalog",
                        f"{catalog}:database/{database}",
                        *(f"{catalog}:table/{database}/{t}" for t in self.crawled_tables(job)),
                    ],
                ),
            ):
                role.add_to_policy(statement)
            crawlers[zone] = glue.CfnCrawler(
                self,
                f"{_pascal(zone)}Crawler",
                name=f"{self.prefix}-{zone}-catalog",
                description=f"Catalog tables of the {zone} zone (written by {job})",
                role=role.role_arn,
                database_name=database,
                targets=glue.CfnCrawler.TargetsProperty(
                    s3_targets=[
                        glue.CfnCrawler.S3TargetProperty(
                            path=f"s3://{lake.bucket_name(zone)}/{folder}/",
                            exclusions=CRAWL_EXCLUSIONS,
                        )
                        for folder in folders
                    ]
                ),
                crawler_security_configuration=encryption.security_configuration.ref,
                schema_change_policy=glue.CfnCrawler.SchemaChangePolicyProperty(
                    update_behavior="UPDATE_IN_DATABASE", delete_behavior="LOG"
                ),
                configuration=json.dumps(
                    {
                        "Version": 1.0,
                        "CrawlerOutput": {
                            "Partitions": {"AddOrUpdateBehavior": "InheritFromTable"}
                        },
                    }
                ),
            )
        for statement in encryption.role_statements():
            role.add_to_policy(statement)
        return crawlers

    def _workflow(self) -> glue.CfnWorkflow:
        """Schedule -> extract; then each job when the previous one succeeded. The crawlers
        start beside load_warehouse, once every lake table is written."""
        workflow = glue.CfnWorkflow(
            self,
            "BatchWorkflow",
            name=f"{self.prefix}-batch",
            description="extract_oltp -> curate_events -> build_marts -> load_warehouse"
            " (and build_recommendations)",
            max_concurrent_runs=1,
        )
        glue.CfnTrigger(
            self,
            "BatchSchedule",
            name=f"{self.prefix}-batch-schedule",
            description="Starts the batch workflow on the configured schedule",
            workflow_name=workflow.ref,
            type="SCHEDULED",
            schedule=self.config.etl.schedule,
            start_on_creation=True,
            actions=[glue.CfnTrigger.ActionProperty(job_name=self.jobs[BATCH_JOBS[0]].ref)],
        )
        # The marts feed the recommendations and the catalog as well as the warehouse load.
        after_marts = [
            glue.CfnTrigger.ActionProperty(job_name=self.jobs[RECOMMENDATION_JOB].ref),
            *(glue.CfnTrigger.ActionProperty(crawler_name=c.ref) for c in self.crawlers.values()),
        ]
        for previous, following in pairwise(BATCH_JOBS):
            glue.CfnTrigger(
                self,
                f"After{_pascal(previous)}",
                name=f"{self.job_name(following)}-after-{previous.replace('_', '-')}",
                description=f"Starts {following} when {previous} succeeded"
                + (
                    f" (and {RECOMMENDATION_JOB} and the catalog crawlers)"
                    if previous == "build_marts"
                    else ""
                ),
                workflow_name=workflow.ref,
                type="CONDITIONAL",
                start_on_creation=True,
                predicate=glue.CfnTrigger.PredicateProperty(
                    conditions=[
                        glue.CfnTrigger.ConditionProperty(
                            job_name=self.jobs[previous].ref,
                            logical_operator="EQUALS",
                            state="SUCCEEDED",
                        )
                    ]
                ),
                actions=[
                    glue.CfnTrigger.ActionProperty(job_name=self.jobs[following].ref),
                    *(after_marts if previous == "build_marts" else ()),
                ],
            )
        return workflow

    def _rulesets(self, lake: LakeStack) -> dict[tuple[str, str], glue.CfnDataQualityRuleset]:
        """The DQDL of each checked table, from the same definitions the jobs check."""
        rulesets = {}
        for job, zone in JOB_ZONES.items():
            for table, dqdl in job_rulesets(job).items():
                rulesets[(job, table)] = glue.CfnDataQualityRuleset(
                    self,
                    f"{_pascal(job)}{_pascal(table)}Rules",
                    name=f"{self.job_name(job)}-{table}",
                    description=f"Quality rules of {table} (written by {job})",
                    ruleset=dqdl,
                    target_table=glue.CfnDataQualityRuleset.DataQualityTargetTableProperty(
                        database_name=lake.catalog_database_name(zone), table_name=table
                    ),
                )
        return rulesets

    def _alarms(self, monitoring: MonitoringStack) -> None:
        etl = self.config.etl

        def job_metric(job: str, name: str, kind: str, statistic: str) -> cw.Metric:
            return cw.Metric(
                namespace="Glue",
                metric_name=f"glue.driver.aggregate.{name}",
                dimensions_map={"JobName": self.job_name(job), "JobRunId": "ALL", "Type": kind},
                statistic=statistic,
                period=_FIVE_MINUTES,
            )

        detail = events.EventField.from_path
        monitoring.notify_on_events(
            "BatchJobRunFailed",
            "A batch ETL job run failed, timed out or errored",
            events.EventPattern(
                source=["aws.glue"],
                detail_type=["Glue Job State Change"],
                detail={
                    "jobName": [self.job_name(job) for job in ETL_JOBS],
                    "state": FAILED_RUN_STATES,
                },
            ),
            f"Glue job {detail('$.detail.jobName')} run {detail('$.detail.jobRunId')} ended"
            f" {detail('$.detail.state')}: {detail('$.detail.message')}",
        )
        monitoring.section("Batch ETL").add_alarms(
            *(
                AlarmSpec(
                    f"{_pascal(job)}Duration",
                    job_metric(job, "elapsedTime", "gauge", "Maximum"),
                    etl.max_duration_minutes * 60_000,
                    _GT,
                    f"{job}: a run over {etl.max_duration_minutes} min",
                    evaluation_periods=1,
                )
                for job in ETL_JOBS
            )
        )

    def _outputs(self) -> None:
        CfnOutput(
            self,
            "BatchWorkflowName",
            value=self.workflow.ref,
            description="Glue workflow of the batch jobs (run by hand: glue start-workflow-run)",
        )
        for job in ETL_JOBS:
            CfnOutput(
                self,
                f"{_pascal(job)}JobName",
                value=self.jobs[job].ref,
                description=f"Glue job glue_jobs/{job}.py",
            )


def _pascal(snake: str) -> str:
    return "".join(part.capitalize() for part in snake.split("_"))
