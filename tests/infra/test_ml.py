"""ML: both pipelines carry this deployment's bucket, role, image and source (no placeholder
left), the schedules and the approval rule start them with parameters, failed executions
alarm, and the pipeline role stays inside its prefixes, jobs and groups."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from synthesized import Assembly, allow_statements, as_list, construct_path, only, resources

from cdk_app.config import load_config
from sagemaker_pipelines.definitions import placeholders
from sagemaker_pipelines.definitions.placeholders import PipelineNames

pytestmark = pytest.mark.infra

ENVS = ("dev", "prod")


def _ml(assembly: Assembly, env: str) -> dict[str, Any]:
    return assembly.template(env, "Ml")


def _names(env: str) -> PipelineNames:
    return PipelineNames.for_prefix(f"ecommerce-{env}")


def _text(value: Any) -> str:
    """A property with Fn::Join flattened; Ref, GetAtt and FindInMap written as ${...}."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(_text(part) for part in parts)
    if isinstance(value, dict) and "Ref" in value:
        return "${" + value["Ref"] + "}"
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return "${" + ".".join(value["Fn::GetAtt"]) + "}"
    if isinstance(value, dict) and "Fn::FindInMap" in value:
        return "${FindInMap:" + value["Fn::FindInMap"][0] + "}"
    if isinstance(value, dict) and "Fn::Sub" in value:
        return value["Fn::Sub"]
    if isinstance(value, dict) and "Fn::GetStackOutput" in value:
        output = value["Fn::GetStackOutput"]
        return "${Output:" + output["StackName"] + "." + output["OutputName"] + "}"
    return json.dumps(value)


def _pipelines(assembly: Assembly, env: str) -> dict[str, dict[str, Any]]:
    """Pipeline name -> its properties."""
    found = resources(_ml(assembly, env), "AWS::SageMaker::Pipeline").values()
    return {r["Properties"]["PipelineName"]: r["Properties"] for r in found}


def _body(properties: dict[str, Any]) -> str:
    return _text(properties["PipelineDefinition"]["PipelineDefinitionBody"])


def _role_id(template: dict[str, Any], path_suffix: str) -> str:
    (logical_id,) = (
        logical_id
        for logical_id, resource in resources(template, "AWS::IAM::Role").items()
        if construct_path(resource).endswith(path_suffix)
    )
    return logical_id


@pytest.mark.parametrize("env", ENVS)
def test_both_pipelines_reference_the_real_bucket_and_role(assembly: Assembly, env: str):
    template = _ml(assembly, env)
    pipelines = _pipelines(assembly, env)
    names = _names(env)
    assert set(pipelines) == {names.training, names.scoring}
    role = "${" + _role_id(template, "/PipelineRole") + ".Arn}"

    def bucket(zone: str) -> str:
        return f"ecommerce-{env}-{zone}-${{AWS::AccountId}}-${{AWS::Region}}"

    # Training writes each run under the artifacts bucket's ml/; scoring writes to curated.
    buckets = {names.training: "artifacts", names.scoring: "curated"}
    for name, properties in pipelines.items():
        assert _text(properties["RoleArn"]) == role
        body = _body(properties)
        for placeholder in placeholders.ALL:
            assert placeholder not in body, (name, placeholder)
        assert "placeholder" not in body, name
        definition = json.loads(body)
        assert definition["Steps"], name
        assert role in body, name
        assert f"s3://{bucket(buckets[name])}/" in body, name
        assert f"s3://{bucket('raw')}/oltp/orders/" in body, name
        assert "${FindInMap:SklearnImageAccounts}.dkr.ecr.${AWS::Region}" in body, name
        # The code: the source tarball asset, in the CDK assets bucket.
        assert re.search(
            r"s3://cdk-\w+-assets-\$\{AWS::AccountId\}-\$\{AWS::Region\}/\w+\.gz", body
        )
        assert len(body) < 1_048_576, name
    assert f"s3://{bucket('artifacts')}/ml" in _body(pipelines[names.training])


@pytest.mark.parametrize("env", ENVS)
def test_model_groups_are_the_ones_training_registers_in(assembly: Assembly, env: str):
    names = _names(env)
    groups = resources(_ml(assembly, env), "AWS::SageMaker::ModelPackageGroup")
    assert {g["Properties"]["ModelPackageGroupName"] for g in groups.values()} == {
        names.churn_group,
        names.clv_group,
    }
    steps = json.loads(_body(_pipelines(assembly, env)[names.training]))["Steps"]
    (condition,) = (step for step in steps if step["Type"] == "Condition")
    registered = {
        s["Arguments"]["ModelPackageGroupName"] for s in condition["Arguments"]["IfSteps"]
    }
    assert registered == {names.churn_group, names.clv_group}


def _parameters(target: dict[str, Any]) -> dict[str, str]:
    return {
        p["Name"]: _text(p["Value"])
        for p in target["SageMakerPipelineParameters"]["PipelineParameterList"]
    }


def _pipeline_arn(name: str) -> str:
    return f"arn:${{AWS::Partition}}:sagemaker:${{AWS::Region}}:${{AWS::AccountId}}:pipeline/{name}"


@pytest.mark.parametrize("env", ENVS)
def test_schedules_start_each_pipeline_with_its_parameters(assembly: Assembly, env: str):
    ml = load_config(env).ml
    names = _names(env)
    template = _ml(assembly, env)
    schedules = {
        s["Properties"]["Name"]: s["Properties"]
        for s in resources(template, "AWS::Scheduler::Schedule").values()
    }
    assert set(schedules) == {names.training, names.scoring}
    training, scoring = schedules[names.training], schedules[names.scoring]
    assert training["ScheduleExpression"] == ml.training_schedule
    assert scoring["ScheduleExpression"] == ml.scoring_schedule
    for name, schedule in schedules.items():
        assert schedule["ScheduleExpressionTimezone"] == "UTC"
        assert _text(schedule["Target"]["Arn"]) == _pipeline_arn(name)
    raw = f"s3://ecommerce-{env}-raw-${{AWS::AccountId}}-${{AWS::Region}}/oltp/orders/"
    tickets = f"s3://ecommerce-{env}-raw-${{AWS::AccountId}}-${{AWS::Region}}/oltp/support_tickets/"
    assert _parameters(training["Target"]) == {
        "OrdersUri": raw,
        "TicketsUri": tickets,
        "FeaturesUri": f"s3://ecommerce-{env}-marts-${{AWS::AccountId}}-${{AWS::Region}}"
        "/customer_features/",
        "HorizonDays": str(ml.horizon_days),
        "MinChurnAuc": str(ml.min_churn_auc),
        "MaxChurnBrier": str(ml.max_churn_brier),
        "MaxClvRevenueError": str(ml.max_clv_revenue_error),
    }
    scoring_parameters = _parameters(scoring["Target"])
    assert scoring_parameters["OrdersUri"] == raw
    assert scoring_parameters["TicketsUri"] == tickets
    assert scoring_parameters["ScoresUri"] == (
        f"s3://ecommerce-{env}-curated-${{AWS::AccountId}}-${{AWS::Region}}/customer_scores/"
    )
    # Every parameter a schedule passes is one the pipeline declares.
    pipelines = _pipelines(assembly, env)
    for name, schedule in schedules.items():
        declared = {p["Name"] for p in json.loads(_body(pipelines[name]))["Parameters"]}
        assert set(_parameters(schedule["Target"])) <= declared, name


@pytest.mark.parametrize("env", ENVS)
def test_approving_a_churn_model_starts_scoring(assembly: Assembly, env: str):
    names = _names(env)
    template = _ml(assembly, env)
    rule = only(template, "AWS::Events::Rule")["Properties"]
    assert rule["EventPattern"] == {
        "source": ["aws.sagemaker"],
        "detail-type": ["SageMaker Model Package State Change"],
        "detail": {
            "ModelPackageGroupName": [names.churn_group],
            "ModelApprovalStatus": ["Approved"],
        },
    }
    (target,) = rule["Targets"]
    assert _text(target["Arn"]) == _pipeline_arn(names.scoring)
    assert set(_parameters(target)) == {
        "OrdersUri",
        "TicketsUri",
        "FeaturesUri",
        "RfmSegmentsUri",
        "ScoresUri",
    }
    role_id = _role_id(template, "/ApprovalRuleRole")
    assert _text(target["RoleArn"]) == "${" + role_id + ".Arn}"
    starts = [
        _text(resource)
        for path, statement in allow_statements(template)
        if "ApprovalRuleRole" in path
        for resource in as_list(statement["Resource"])
    ]
    assert starts == [_pipeline_arn(names.scoring)]


@pytest.mark.parametrize("env", ENVS)
def test_failed_executions_alarm_on_the_platform_topic(assembly: Assembly, env: str):
    names = _names(env)
    monitoring = assembly.template(env, "Monitoring")
    alarms = [
        alarm["Properties"]
        for alarm in resources(monitoring, "AWS::CloudWatch::Alarm").values()
        if alarm["Properties"].get("Namespace") == "AWS/Sagemaker/ModelBuildingPipeline"
    ]
    watched = {a["Dimensions"][0]["Value"] for a in alarms}
    assert watched == {names.training, names.scoring}
    for alarm in alarms:
        assert alarm["MetricName"] == "ExecutionFailed"
        assert alarm["AlarmActions"]


@pytest.mark.parametrize("env", ENVS)
def test_pipeline_role_stays_in_its_prefixes_jobs_and_groups(assembly: Assembly, env: str):
    template = _ml(assembly, env)
    names = _names(env)
    granted: dict[str, set[str]] = {}
    for path, statement in allow_statements(template):
        if "/PipelineRole/" not in path:
            continue
        for action in as_list(statement["Action"]):
            granted.setdefault(action, set()).update(
                _text(r) for r in as_list(statement["Resource"])
            )
    assert "*" not in granted
    assert {a for a, r in granted.items() if "*" in r} == {
        "sagemaker:ListModelPackages",
        "ec2:DescribeDhcpOptions",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeSubnets",
        "ec2:DescribeVpcs",
    }
    writes = granted["s3:PutObject"]
    assert {w.split("/", 1)[1] for w in writes} == {"customer_scores/*", "ml/*"}
    sagemaker_resources = {
        r for a, rs in granted.items() if a.startswith("sagemaker:") for r in rs if r != "*"
    }
    for resource in sagemaker_resources:
        assert (
            resource.endswith((":processing-job/pipelines-*", ":training-job/pipelines-*"))
            or names.churn_group in resource
            or names.clv_group in resource
        ), resource


def _published_subnets(assembly: Assembly, env: str) -> dict[str, str]:
    """`StackName.OutputName` -> logical id of each subnet the Network stack publishes (the
    other stacks read them with Fn::GetStackOutput)."""
    network = assembly.template(env, "Network")
    subnets = resources(network, "AWS::EC2::Subnet")
    return {
        f"{env}-Network.{name}": output["Value"]["Ref"]
        for name, output in network.get("Outputs", {}).items()
        if isinstance(output["Value"], dict) and output["Value"].get("Ref") in subnets
    }


def _jobs(definition: dict[str, Any]) -> list[dict[str, Any]]:
    """The processing and training steps of a definition, the condition's branches included."""
    found, pending = [], list(definition["Steps"])
    while pending:
        step = pending.pop(0)
        if step["Type"] == "Condition":
            pending += step["Arguments"]["IfSteps"] + step["Arguments"]["ElseSteps"]
        elif step["Type"] in {"Processing", "Training"}:
            found.append(step)
    return found


@pytest.mark.parametrize("env", ENVS)
def test_every_job_runs_in_the_platform_s_private_subnets_under_the_jobs_group(
    assembly: Assembly, env: str
):
    template = _ml(assembly, env)
    (group_id,) = (
        logical_id
        for logical_id, group in resources(template, "AWS::EC2::SecurityGroup").items()
        if construct_path(group).endswith("/PipelineJobsSg")
    )
    subnets = _published_subnets(assembly, env)
    network = assembly.template(env, "Network")
    assert set(subnets.values()) == set(resources(network, "AWS::EC2::Subnet"))
    assert len(subnets) == load_config(env).network.max_azs
    expected = {
        "SecurityGroupIds": ["${" + group_id + ".GroupId}"],
        "Subnets": sorted("${Output:" + name + "}" for name in subnets),
    }
    jobs = 0
    for name, properties in _pipelines(assembly, env).items():
        for step in _jobs(json.loads(_body(properties))):
            arguments = step["Arguments"]
            network = arguments["VpcConfig"] if step["Type"] == "Training" else None
            if step["Type"] == "Processing":
                assert arguments["NetworkConfig"]["EnableNetworkIsolation"] is False
                network = arguments["NetworkConfig"]["VpcConfig"]
            assert {k: sorted(v) for k, v in network.items()} == expected, (name, step["Name"])
            jobs += 1
    assert jobs == 4  # prepare, train, evaluate; score


@pytest.mark.parametrize("env", ENVS)
def test_the_jobs_group_admits_nothing_and_sends_https_only(assembly: Assembly, env: str):
    template = _ml(assembly, env)
    (group,) = (
        g
        for g in resources(template, "AWS::EC2::SecurityGroup").values()
        if construct_path(g).endswith("/PipelineJobsSg")
    )
    properties = group["Properties"]
    assert "SecurityGroupIngress" not in properties
    assert [
        (rule["IpProtocol"], rule["FromPort"], rule["ToPort"], rule["CidrIp"])
        for rule in properties["SecurityGroupEgress"]
    ] == [("tcp", 443, 443, "0.0.0.0/0")]
    ingress = [
        r["Properties"]
        for r in resources(template, "AWS::EC2::SecurityGroupIngress").values()
        if r["Properties"].get("SourceSecurityGroupId", {}).get("Fn::GetAtt", [""])[0]
        == next(
            lid for lid, g in resources(template, "AWS::EC2::SecurityGroup").items() if g is group
        )
    ]
    # The endpoints' group admits the jobs' group on HTTPS, the OLTP database's on its port
    # (the rules live in this stack).
    admitted = {
        (r["IpProtocol"], r["FromPort"], r["ToPort"], _text(r["GroupId"]).split(".")[-1])
        for r in ingress
    }
    assert {(proto, low, high) for proto, low, high, _ in admitted} == {
        ("tcp", 443, 443),
        ("tcp", 5432, 5432),
    }
    targets = {port: output for _, port, _, output in admitted}
    assert "EndpointsSg" in targets[443]
    assert "DatabaseSg" in targets[5432]
    network = assembly.template(env, "Network")
    for resource in network["Resources"].values():
        if resource["Type"] == "AWS::EC2::Subnet":
            assert resource["Properties"]["MapPublicIpOnLaunch"] is False
    assert not resources(network, "AWS::EC2::InternetGateway")


@pytest.mark.parametrize("env", ENVS)
def test_the_role_manages_network_interfaces_only_in_the_platform_vpc(assembly: Assembly, env: str):
    template = _ml(assembly, env)
    (statement,) = (
        statement
        for path, statement in allow_statements(template)
        if "/PipelineRole/" in path and "ec2:CreateNetworkInterface" in as_list(statement["Action"])
    )
    assert sorted(as_list(statement["Action"])) == [
        "ec2:CreateNetworkInterface",
        "ec2:CreateNetworkInterfacePermission",
        "ec2:DeleteNetworkInterface",
        "ec2:DeleteNetworkInterfacePermission",
    ]
    (vpc,) = statement["Condition"]["ArnEquals"]["ec2:Vpc"].values()
    assert "Vpc" in _text(vpc)


@pytest.mark.parametrize("env", ENVS)
def test_scores_are_catalogued_with_the_warehouse_contract_s_columns(assembly: Assembly, env: str):
    template = _ml(assembly, env)
    table = only(template, "AWS::Glue::Table")["Properties"]
    assert table["DatabaseName"] == f"ecommerce_{env}_curated"
    table_input = table["TableInput"]
    assert table_input["Name"] == "customer_scores"
    assert table_input["PartitionKeys"] == [{"Name": "as_of", "Type": "date"}]
    descriptor = table_input["StorageDescriptor"]
    # By hand from contracts/warehouse/scores/customer_scores.sql, in the files' order.
    assert [(c["Name"], c["Type"]) for c in descriptor["Columns"]] == [
        ("user_id", "bigint"),
        ("churn_probability", "double"),
        ("churn_band", "string"),
        ("p_alive", "double"),
        ("expected_orders_90d", "double"),
        ("expected_orders_365d", "double"),
        ("expected_revenue_365d", "double"),
        ("clv_365d", "double"),
        ("action_segment", "string"),
        ("top_drivers", "string"),
        ("new_customer", "boolean"),
        ("churn_model_version", "string"),
        ("clv_model_version", "string"),
        ("scored_at", "timestamp"),
    ]
    assert _text(descriptor["Location"]) == (
        f"s3://ecommerce-{env}-curated-${{AWS::AccountId}}-${{AWS::Region}}/customer_scores/"
    )
    assert descriptor["SerdeInfo"]["SerializationLibrary"].endswith("ParquetHiveSerDe")
    # The scoring step registers partitions in exactly this table, and nothing more.
    catalog_grants = {
        action: {_text(r) for r in as_list(statement["Resource"])}
        for path, statement in allow_statements(template)
        if "/PipelineRole/" in path
        for action in as_list(statement["Action"])
        if action.startswith("glue:")
    }
    assert set(catalog_grants) == {
        "glue:GetTable",
        "glue:GetPartition",
        "glue:GetPartitions",
        "glue:BatchCreatePartition",
    }
    glue = "arn:${AWS::Partition}:glue:${AWS::Region}:${AWS::AccountId}"
    for resources_ in catalog_grants.values():
        assert resources_ == {
            f"{glue}:catalog",
            f"{glue}:database/ecommerce_{env}_curated",
            f"{glue}:table/ecommerce_{env}_curated/customer_scores",
        }
    scoring = json.loads(_body(_pipelines(assembly, env)[_names(env).scoring]))
    (score,) = _jobs(scoring)
    arguments = score["Arguments"]["AppSpecification"]["ContainerArguments"]
    assert arguments[arguments.index("--catalog-database") + 1] == f"ecommerce_{env}_curated"
    assert arguments[arguments.index("--catalog-table") + 1] == "customer_scores"


@pytest.mark.parametrize("env", ENVS)
def test_the_warehouse_load_reads_the_curated_zone_for_the_scores(assembly: Assembly, env: str):
    etl = assembly.template(env, "Etl")
    (job,) = (
        j["Properties"]
        for j in resources(etl, "AWS::Glue::Job").values()
        if j["Properties"]["Name"] == f"ecommerce-{env}-load-warehouse"
    )
    arguments = job["DefaultArguments"]
    assert _text(arguments["--curated_uri"]) == (
        f"s3://ecommerce-{env}-curated-${{AWS::AccountId}}-${{AWS::Region}}"
    )
    assert "--tables" not in arguments  # every table of contracts/warehouse/loads.py


@pytest.mark.parametrize("env", ENVS)
def test_scoring_reaches_the_oltp_database_with_its_secret_only(assembly: Assembly, env: str):
    template = _ml(assembly, env)
    (group_id,) = (
        logical_id
        for logical_id, group in resources(template, "AWS::EC2::SecurityGroup").items()
        if construct_path(group).endswith("/PipelineJobsSg")
    )
    egress = [
        r["Properties"]
        for r in resources(template, "AWS::EC2::SecurityGroupEgress").values()
        if r["Properties"]["GroupId"] == {"Fn::GetAtt": [group_id, "GroupId"]}
    ]
    assert [(e["IpProtocol"], e["FromPort"], e["ToPort"]) for e in egress] == [("tcp", 5432, 5432)]
    assert "DatabaseSg" in _text(egress[0]["DestinationSecurityGroupId"])
    reads = {
        _text(resource)
        for path, statement in allow_statements(template)
        if "/PipelineRole/" in path
        and "secretsmanager:GetSecretValue" in as_list(statement["Action"])
        for resource in as_list(statement["Resource"])
    }
    (secret,) = reads
    assert "Database" in secret  # the OLTP stack's RDS secret, published to this stack
    scoring = json.loads(_body(_pipelines(assembly, env)[_names(env).scoring]))
    (score,) = _jobs(scoring)
    arguments = score["Arguments"]["AppSpecification"]["ContainerArguments"]
    assert arguments[arguments.index("--database-secret") + 1] == secret
