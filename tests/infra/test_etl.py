"""ETL: the batch Glue jobs (Glue 5.0, workers from config, bookmarks off), the workflow and
its triggers, the Data Quality rulesets and the job role's scope."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Match, Template
from synthesized import Assembly, allow_statements, as_list, resources

from cdk_app.config import ConfigError, load_config, read_cdk_context
from contracts.lake import JOB_ZONES, QUALITY_RESULTS, Lake
from contracts.marts import marts
from contracts.quality import load_job_rules, rule_jobs
from contracts.quality.dqdl import job_rulesets
from stacks.etl import ETL_JOBS
from stacks.lake import BUCKET_NAME

pytestmark = pytest.mark.infra

JOB_NAMES = {
    "extract_oltp": "extract-oltp",
    "curate_events": "curate-events",
    "build_marts": "build-marts",
    "load_warehouse": "load-warehouse",
    "build_recommendations": "build-recommendations",
}


def _template(assembly: Assembly, env: str) -> Template:
    return Template.from_json(assembly.template(env, "Etl"))


def _jobs_by_name(assembly: Assembly, env: str) -> dict[str, dict]:
    return {
        job["Properties"]["Name"]: job["Properties"]
        for job in resources(assembly.template(env, "Etl"), "AWS::Glue::Job").values()
    }


def _joined(value) -> str:
    """A string built with Fn::Join, pseudo parameters written as ${Name}."""
    if isinstance(value, str):
        return value
    if "Fn::Join" not in value:
        return str(value)
    return "".join(_part(part) for part in value["Fn::Join"][1])


def _part(part) -> str:
    if isinstance(part, str):
        return part
    if "Ref" in part:
        return "${" + part["Ref"] + "}"
    return part.get("Fn::Sub", str(part))


def test_every_job_with_rules_has_a_zone_and_the_workflow_runs_every_job():
    assert set(JOB_ZONES) == set(rule_jobs())
    assert tuple(JOB_NAMES) == ETL_JOBS


@pytest.mark.parametrize(("env", "workers", "timeout"), [("dev", 2, 120), ("prod", 10, 240)])
def test_jobs_run_glue_5_with_workers_from_config_and_no_bookmarks(
    assembly: Assembly, env: str, workers: int, timeout: int
):
    template = _template(assembly, env)
    template.resource_count_is("AWS::Glue::Job", 5)
    for suffix in JOB_NAMES.values():
        template.has_resource_properties(
            "AWS::Glue::Job",
            {
                "Name": f"ecommerce-{env}-{suffix}",
                "GlueVersion": "5.0",
                "WorkerType": "G.1X",
                "NumberOfWorkers": workers,
                "Timeout": timeout,
                "Command": {
                    "Name": "glueetl",
                    "PythonVersion": "3",
                    "ScriptLocation": Match.any_value(),
                },
                "DefaultArguments": Match.object_like(
                    {
                        "--job-bookmark-option": "job-bookmark-disable",
                        "--extra-py-files": Match.any_value(),
                        "--additional-python-modules": Match.any_value(),
                    }
                ),
                "SecurityConfiguration": Match.any_value(),
            },
        )


def test_scripts_are_separate_assets_and_the_packages_are_shared(assembly: Assembly):
    jobs = _jobs_by_name(assembly, "dev").values()
    scripts = {job["Command"]["ScriptLocation"]["Fn::Sub"] for job in jobs}
    packages = {job["DefaultArguments"]["--extra-py-files"]["Fn::Sub"] for job in jobs}
    assert len(scripts) == 5
    assert all(s.startswith("s3://cdk-") and s.endswith(".py") for s in scripts)
    assert len(packages) == 1
    assert packages.pop().endswith(".zip")


def test_job_arguments_point_at_the_lake_zones(assembly: Assembly):
    jobs = _jobs_by_name(assembly, "dev")
    suffix = "-${AWS::AccountId}-${AWS::Region}"
    extract = jobs["ecommerce-dev-extract-oltp"]["DefaultArguments"]
    assert _joined(extract["--raw_uri"]) == f"s3://ecommerce-dev-raw{suffix}"
    assert _joined(extract["--state_uri"]) == f"s3://ecommerce-dev-artifacts{suffix}/state"
    curate = jobs["ecommerce-dev-curate-events"]["DefaultArguments"]
    assert _joined(curate["--events_path"]) == f"s3://ecommerce-dev-raw{suffix}/events/"
    # The streaming job's table, which the realtime stack writes.
    assert _joined(curate["--stream_events_path"]) == (
        f"s3://ecommerce-dev-raw{suffix}/events_stream/"
    )
    assert curate["--allowed_lateness_hours"] == "48"
    # Its manifest of curated raw objects sits beside the extract's watermarks.
    assert curate["--state_uri"] == extract["--state_uri"]
    assert (
        _joined(curate["--quality_results_uri"]) == f"s3://ecommerce-dev-marts{suffix}/dq_results"
    )
    load = jobs["ecommerce-dev-load-warehouse"]["DefaultArguments"]
    assert load["--database"] == "analytics"
    assert load["--workgroup_name"] == "ecommerce-dev"
    assert "--quality_results_uri" not in load
    reco = jobs["ecommerce-dev-build-recommendations"]["DefaultArguments"]
    assert _joined(reco["--curated_uri"]) == f"s3://ecommerce-dev-curated{suffix}"
    assert _joined(reco["--marts_uri"]) == f"s3://ecommerce-dev-marts{suffix}"
    assert reco["--database_secret_id"] == extract["--database_secret_id"]
    assert reco["--holdout_days"] == "7"


def test_only_the_jobs_that_reach_the_database_run_in_the_vpc(assembly: Assembly):
    template = assembly.template("dev", "Etl")
    jobs = _jobs_by_name(assembly, "dev")
    with_connections = {name: job.get("Connections") for name, job in jobs.items()}
    assert with_connections == {
        "ecommerce-dev-extract-oltp": {"Connections": ["ecommerce-dev-oltp-jdbc"]},
        "ecommerce-dev-curate-events": None,
        "ecommerce-dev-build-marts": None,
        "ecommerce-dev-load-warehouse": None,
        "ecommerce-dev-build-recommendations": {"Connections": ["ecommerce-dev-oltp-jdbc"]},
    }
    (connection,) = resources(template, "AWS::Glue::Connection").values()
    connection_input = connection["Properties"]["ConnectionInput"]
    assert connection_input["Name"] == "ecommerce-dev-oltp-jdbc"
    assert connection_input["ConnectionType"] == "JDBC"
    properties = connection_input["ConnectionProperties"]
    assert properties["JDBC_ENFORCE_SSL"] == "true"
    assert "SecretAttachment" in properties["SECRET_ID"]["Fn::GetStackOutput"]["OutputName"]
    assert _joined(properties["JDBC_CONNECTION_URL"]).startswith("jdbc:postgresql://")
    assert _joined(properties["JDBC_CONNECTION_URL"]).endswith("/ecommerce")
    Template.from_json(template).has_resource_properties(
        "AWS::EC2::SecurityGroupIngress",
        {"FromPort": 5432, "ToPort": 5432, "IpProtocol": "tcp", "Description": "from EtlJobSg"},
    )


@pytest.mark.parametrize(
    ("env", "schedule"), [("dev", "cron(0 3 * * ? *)"), ("prod", "cron(30 1 * * ? *)")]
)
def test_workflow_schedules_extract_then_chains_each_job_on_success(
    assembly: Assembly, env: str, schedule: str
):
    template = assembly.template(env, "Etl")
    (workflow_id,) = resources(template, "AWS::Glue::Workflow")
    name_of = {
        logical_id: job["Properties"]["Name"]
        for logical_id, job in resources(template, "AWS::Glue::Job").items()
    }
    triggers = [t["Properties"] for t in resources(template, "AWS::Glue::Trigger").values()]
    assert all(t["WorkflowName"] == {"Ref": workflow_id} for t in triggers)
    assert all(t["StartOnCreation"] is True for t in triggers)
    (scheduled,) = [t for t in triggers if t["Type"] == "SCHEDULED"]
    assert scheduled["Schedule"] == schedule
    assert [name_of[a["JobName"]["Ref"]] for a in scheduled["Actions"]] == [
        f"ecommerce-{env}-extract-oltp"
    ]
    name_of |= {
        logical_id: crawler["Properties"]["Name"]
        for logical_id, crawler in resources(template, "AWS::Glue::Crawler").items()
    }
    chain = {}
    for trigger in (t for t in triggers if t["Type"] == "CONDITIONAL"):
        (condition,) = trigger["Predicate"]["Conditions"]
        assert (condition["LogicalOperator"], condition["State"]) == ("EQUALS", "SUCCEEDED")
        after = name_of[condition["JobName"]["Ref"]]
        assert after not in chain, f"two triggers start after {after}"
        chain[after] = sorted(
            name_of[(a.get("JobName") or a["CrawlerName"])["Ref"]] for a in trigger["Actions"]
        )
    prefix = f"ecommerce-{env}"
    assert chain == {
        f"{prefix}-extract-oltp": [f"{prefix}-curate-events"],
        f"{prefix}-curate-events": [f"{prefix}-build-marts"],
        f"{prefix}-build-marts": [
            f"{prefix}-build-recommendations",
            f"{prefix}-curated-catalog",
            f"{prefix}-load-warehouse",
            f"{prefix}-marts-catalog",
            f"{prefix}-raw-catalog",
        ],
    }


def _rendered(value: object) -> str:
    """A template string as text: Fn::Join parts joined, pseudo parameters as ${AWS::...}."""
    if isinstance(value, str):
        return value
    assert isinstance(value, dict)
    if "Ref" in value:
        return "${" + value["Ref"] + "}"
    separator, parts = value["Fn::Join"]
    return separator.join(_rendered(part) for part in parts)


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_crawlers_keep_every_ruleset_table_where_its_job_writes_it(assembly: Assembly, env: str):
    template = assembly.template(env, "Etl")
    crawled = {}  # (database, table) -> S3 folder the crawler reads it from
    for crawler in resources(template, "AWS::Glue::Crawler").values():
        properties = crawler["Properties"]
        assert properties["SchemaChangePolicy"] == {
            "UpdateBehavior": "UPDATE_IN_DATABASE",
            "DeleteBehavior": "LOG",
        }
        assert "CrawlerSecurityConfiguration" in properties
        for target in properties["Targets"]["S3Targets"]:
            path = _rendered(target["Path"])
            table = path.rstrip("/").rsplit("/", 1)[1]  # a crawler names a table by its folder
            crawled[(properties["DatabaseName"], table)] = path.rstrip("/")
    # The lake as the jobs lay it out (contracts/lake.py), on the stack's bucket names.
    bucket = {
        zone: "s3://"
        + BUCKET_NAME.format(
            env=env, role=zone, account="${AWS::AccountId}", region="${AWS::Region}"
        )
        for zone in ("raw", "curated", "marts")
    }
    lake = Lake(raw=bucket["raw"], curated=bucket["curated"], marts=bucket["marts"])
    written_at = {
        "extract_oltp": lake.raw_table,
        "curate_events": lake.curated_table,
        "build_marts": lake.mart,
    }
    expected = {
        (f"ecommerce_{env}_{zone}", table): written_at[job](table)
        for job, zone in JOB_ZONES.items()
        for table in job_rulesets(job)
    }
    expected[(f"ecommerce_{env}_marts", QUALITY_RESULTS)] = lake.quality_results
    assert crawled == expected
    targets = [
        r["Properties"]["TargetTable"]
        for r in resources(template, "AWS::Glue::DataQualityRuleset").values()
    ]
    rulesets = {(target["DatabaseName"], target["TableName"]) for target in targets}
    assert rulesets <= set(crawled)


def test_one_ruleset_per_checked_table_with_the_rendered_dqdl(assembly: Assembly):
    template = assembly.template("dev", "Etl")
    found = {
        r["Properties"]["Name"]: r["Properties"]
        for r in resources(template, "AWS::Glue::DataQualityRuleset").values()
    }
    expected_count = sum(len(load_job_rules(job).tables) for job in rule_jobs())
    assert len(found) == expected_count
    for job, zone in JOB_ZONES.items():
        for table, dqdl in job_rulesets(job).items():
            ruleset = found[f"ecommerce-dev-{JOB_NAMES[job]}-{table}"]
            assert ruleset["Ruleset"] == dqdl
            assert ruleset["TargetTable"] == {
                "DatabaseName": f"ecommerce_dev_{zone}",
                "TableName": table,
            }
    # Written by hand from contracts/quality/curate_events.yaml.
    sessions = found["ecommerce-dev-curate-events-sessions"]["Ruleset"]
    assert sessions.startswith('Rules = [\n    RowCountMatch "events" <= 1.0,\n')
    assert '    IsPrimaryKey "session_id",\n' in sessions
    assert '    IsComplete "started_at",\n' in sessions


def _role_statements(assembly: Assembly, env: str, role: str = "EtlJobRole") -> list[dict]:
    return [
        statement
        for path, statement in allow_statements(assembly.template(env, "Etl"))
        if f"/{role}/" in path
    ]


def _s3_grants(statements: list[dict]) -> dict[str, set[str]]:
    """The buckets each role may list, and the object paths it may read or write (bucket ARNs
    without their arn:aws:s3::: head)."""
    grants: dict[str, set[str]] = {"list": set(), "read": set(), "write": set()}
    for statement in statements:
        actions = as_list(statement["Action"])
        assert "*" not in actions
        assert not [a for a in actions if a.startswith("s3:") and "*" in a]
        for resource in as_list(statement["Resource"]):
            text = resource["Fn::Sub"] if "Fn::Sub" in resource else _joined(resource)
            path = text.split(":::", 1)[1] if ":::" in text else text
            if "s3:ListBucket" in actions:
                grants["list"].add(path)
            if "s3:GetObject" in actions:
                grants["read"].add(path)
            if "s3:PutObject" in actions:
                assert "s3:DeleteObject" in actions
                grants["write"].add(path)
    return grants


_SUFFIX = "-${AWS::AccountId}-${AWS::Region}"
_LAKE = {
    zone: f"ecommerce-dev-{zone}{_SUFFIX}" for zone in ("raw", "curated", "marts", "artifacts")
}


def test_job_role_reaches_only_the_lake_buckets_and_its_assets(assembly: Assembly):
    grants = _s3_grants(_role_statements(assembly, "dev"))
    assert grants["list"] == set(_LAKE.values())
    assets = {o for o in grants["read"] if o.startswith("cdk-")}
    assert grants["read"] - assets == {f"{bucket}/*" for bucket in _LAKE.values()}
    assert grants["write"] == {f"{bucket}/*" for bucket in _LAKE.values()}
    # Four scripts, one shared packages zip and one shared wheels zip, each by exact key.
    assert len(assets) == 6
    assert not [a for a in assets if "*" in a]


def test_recommendation_job_writes_only_its_reco_tables_and_temp_files(assembly: Assembly):
    statements = _role_statements(assembly, "dev", "RecommendationJobRole")
    grants = _s3_grants(statements)
    assert grants["list"] == set(_LAKE.values())
    assets = {o for o in grants["read"] if o.startswith("cdk-")}
    assert len(assets) == 3  # its script, the packages zip, the wheels zip
    marts_reco = f"{_LAKE['marts']}/reco_*"
    temp = f"{_LAKE['artifacts']}/glue-temp/etl/*"
    assert grants["read"] - assets == {
        f"{_LAKE['raw']}/*",
        f"{_LAKE['curated']}/*",
        marts_reco,
        temp,
    }
    assert grants["write"] == {marts_reco, temp}
    # Every folder it writes lies under that prefix.
    assert not [name for name in marts() if name.startswith("reco_")]
    actions = {a for s in statements for a in as_list(s["Action"])}
    assert not [a for a in actions if a.startswith("redshift")]
    namespaces = [
        s["Condition"]["StringEquals"]["cloudwatch:namespace"]
        for s in statements
        if "cloudwatch:PutMetricData" in as_list(s["Action"])
    ]
    assert namespaces == [["Glue"]]


def test_job_role_reads_the_oltp_secret_only(assembly: Assembly):
    secret_statements = [
        s
        for s in _role_statements(assembly, "dev")
        if any(a.startswith("secretsmanager:") for a in as_list(s["Action"]))
    ]
    oltp = [s for s in secret_statements if "dev-Oltp" in str(s["Resource"])]
    (statement,) = oltp
    assert sorted(as_list(statement["Action"])) == [
        "secretsmanager:DescribeSecret",
        "secretsmanager:GetSecretValue",
    ]
    assert "SecretAttachment" in statement["Resource"]["Fn::GetStackOutput"]["OutputName"]
    actions = {a for s in secret_statements for a in as_list(s["Action"])}
    assert actions == {"secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"}


def test_job_role_runs_load_transactions_on_its_warehouse_only(assembly: Assembly):
    """load_warehouse reads a table's columns (ExecuteStatement, GetStatementResult) and sends
    each load as one BatchExecuteStatement, an IAM action of its own (ExecuteStatement does not
    allow it)."""
    data_api = {
        action: statement["Resource"]
        for statement in _role_statements(assembly, "dev")
        for action in as_list(statement["Action"])
        if action.startswith("redshift-data:")
    }
    assert sorted(data_api) == [
        "redshift-data:BatchExecuteStatement",
        "redshift-data:CancelStatement",
        "redshift-data:DescribeStatement",
        "redshift-data:ExecuteStatement",
        "redshift-data:GetStatementResult",
    ]
    for action in ("redshift-data:BatchExecuteStatement", "redshift-data:ExecuteStatement"):
        execute = data_api[action]
        assert execute["Fn::GetStackOutput"]["StackName"] == "dev-Warehouse"
        assert "WorkgroupArn" in execute["Fn::GetStackOutput"]["OutputName"]
    assert data_api["redshift-data:GetStatementResult"] == "*"  # one's own statements only


@pytest.mark.parametrize(("env", "minutes"), [("dev", 60), ("prod", 120)])
def test_duration_alarm_per_job(assembly: Assembly, env: str, minutes: int):
    alarms = [
        a["Properties"]
        for a in resources(assembly.template(env, "Monitoring"), "AWS::CloudWatch::Alarm").values()
        if "/BatchEtl/" in a["Metadata"]["aws:cdk:path"]
    ]
    thresholds = {}
    for alarm in alarms:
        (job,) = [d["Value"] for d in alarm["Dimensions"] if d["Name"] == "JobName"]
        thresholds[job] = alarm["Threshold"]
        assert (alarm["Namespace"], alarm["MetricName"]) == (
            "Glue",
            "glue.driver.aggregate.elapsedTime",
        )
        assert alarm["AlarmActions"] == alarm["OKActions"]
        assert len(alarm["AlarmActions"]) == 1
    names = {f"ecommerce-{env}-{suffix}" for suffix in JOB_NAMES.values()}
    assert thresholds == dict.fromkeys(names, minutes * 60 * 1000)


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_every_failed_run_notifies_the_alarm_topic(assembly: Assembly, env: str):
    template = assembly.template(env, "Monitoring")
    (rule,) = [
        r["Properties"]
        for r in resources(template, "AWS::Events::Rule").values()
        if "BatchJobRunFailed" in r["Metadata"]["aws:cdk:path"]
    ]
    assert rule["EventPattern"] == {
        "source": ["aws.glue"],
        "detail-type": ["Glue Job State Change"],
        "detail": {
            "jobName": [f"ecommerce-{env}-{JOB_NAMES[job]}" for job in ETL_JOBS],
            "state": ["FAILED", "TIMEOUT", "ERROR"],
        },
    }
    (target,) = rule["Targets"]
    (topic_id,) = resources(template, "AWS::SNS::Topic")
    assert target["Arn"] == {"Ref": topic_id}
    transformer = target["InputTransformer"]
    assert set(transformer["InputPathsMap"].values()) == {
        "$.detail.jobName",
        "$.detail.jobRunId",
        "$.detail.state",
        "$.detail.message",
    }
    # EventBridge may publish: the topic policy lets it, and the topic's key lets it encrypt.
    (policy,) = resources(template, "AWS::SNS::TopicPolicy").values()
    publishers = [
        st["Principal"]["Service"]
        for st in policy["Properties"]["PolicyDocument"]["Statement"]
        if st["Effect"] == "Allow" and st["Action"] == "sns:Publish"
    ]
    assert publishers == ["events.amazonaws.com"]
    (key,) = resources(template, "AWS::KMS::Key").values()
    key_services = {
        service
        for st in key["Properties"]["KeyPolicy"]["Statement"]
        if "kms:GenerateDataKey" in as_list(st["Action"])
        for service in as_list(st["Principal"].get("Service"))
    }
    assert {"cloudwatch.amazonaws.com", "events.amazonaws.com"} <= key_services


def test_duration_alarm_must_fire_before_the_timeout():
    context = read_cdk_context()
    dev = context["environments"]["dev"]
    broken = {**dev, "etl": {**dev["etl"], "max_duration_minutes": dev["etl"]["timeout_minutes"]}}
    with pytest.raises(ConfigError, match=r"etl\.max_duration_minutes"):
        load_config("dev", {"environments": {"dev": broken}})
