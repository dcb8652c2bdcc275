"""Network: private-only VPC, the endpoints the platform calls, flow logs, and security groups
whose ingress names a source group, never an address range."""

from __future__ import annotations

from typing import Any

import pytest
from synthesized import (
    REAL_ENVS,
    TEST_ENV,
    Assembly,
    construct_path,
    only,
    resources,
    synth_context,
)

from cdk_app.config import load_config

pytestmark = pytest.mark.infra

INTERFACE_ENDPOINTS = {
    "secretsmanager",
    "sts",
    "glue",
    "logs",
    "monitoring",
    "sagemaker.api",
    "sagemaker.runtime",
    "redshift-data",
    "kms",
    "lambda",
    "sqs",
    "ecr.api",
    "ecr.dkr",
}


@pytest.mark.parametrize(("env", "azs"), [("dev", 3), ("prod", 3), (TEST_ENV, 2)])
def test_vpc_has_only_isolated_subnets_one_per_az(assembly: Assembly, env: str, azs: int):
    template = assembly.template(env, "Network")
    subnets = resources(template, "AWS::EC2::Subnet").values()
    assert len(subnets) == azs
    assert {s["Properties"]["AvailabilityZone"]["Fn::Select"][0] for s in subnets} == set(
        range(azs)
    )
    assert all(s["Properties"]["MapPublicIpOnLaunch"] is False for s in subnets)
    for internet_path in ("AWS::EC2::InternetGateway", "AWS::EC2::NatGateway", "AWS::EC2::EIP"):
        assert not resources(template, internet_path)


@pytest.mark.parametrize("env", REAL_ENVS)
def test_vpc_endpoints_cover_what_the_platform_calls(assembly: Assembly, env: str):
    endpoints = resources(assembly.template(env, "Network"), "AWS::EC2::VPCEndpoint").values()
    services = {
        (
            e["Properties"]["ServiceName"]["Fn::Join"][1][-1].lstrip("."),
            e["Properties"].get("VpcEndpointType"),
        )
        for e in endpoints
    }
    assert services == {("s3", "Gateway")} | {(name, "Interface") for name in INTERFACE_ENDPOINTS}
    for endpoint in endpoints:
        if endpoint["Properties"]["VpcEndpointType"] == "Interface":
            assert endpoint["Properties"]["PrivateDnsEnabled"] is True


@pytest.mark.parametrize(("env", "days"), [("dev", 14), ("prod", 90)])
def test_flow_logs_capture_all_traffic_with_configured_retention(
    assembly: Assembly, env: str, days: int
):
    template = assembly.template(env, "Network")
    assert only(template, "AWS::EC2::FlowLog")["Properties"]["TrafficType"] == "ALL"
    assert only(template, "AWS::Logs::LogGroup")["Properties"]["RetentionInDays"] == days


def _group_paths(templates: dict[tuple[str, str], dict[str, Any]]) -> dict[str, str]:
    """Map every way a template can name a security group id to the group's construct path."""
    paths: dict[str, str] = {}
    for (_, stack), template in templates.items():
        for logical_id, group in resources(template, "AWS::EC2::SecurityGroup").items():
            paths[f"{stack}:{logical_id}"] = construct_path(group)
        for output_name, output in template.get("Outputs", {}).items():
            value = output["Value"]
            if isinstance(value, dict) and "Fn::GetAtt" in value:
                paths[f"{stack}:output:{output_name}"] = f"{stack}:{value['Fn::GetAtt'][0]}"
    return paths


def _resolve(stack: str, env: str, reference: dict[str, Any], paths: dict[str, str]) -> str:
    if "Fn::GetAtt" in reference:
        return paths[f"{stack}:{reference['Fn::GetAtt'][0]}"]
    imported = reference["Fn::GetStackOutput"]
    owner = imported["StackName"].removeprefix(f"{env}-")
    return paths[paths[f"{owner}:output:{imported['OutputName']}"]]


def _port(template: dict[str, Any], value: Any) -> int:
    """A literal port, or the port of the database whose Endpoint.Port the rule refers to."""
    if isinstance(value, dict):
        logical_id, attribute = value["Fn::GetAtt"]
        assert attribute == "Endpoint.Port", value
        return int(template["Resources"][logical_id]["Properties"]["Port"])
    return value


def ingress_rules(assembly: Assembly, env: str) -> list[tuple[str, str, int, dict[str, Any]]]:
    """(target group path, source group path, port, raw rule) for every ingress rule of env."""
    templates = assembly.templates(env)
    paths = _group_paths(templates)
    rules = []
    for (_, stack), template in templates.items():
        for logical_id, group in resources(template, "AWS::EC2::SecurityGroup").items():
            for rule in group["Properties"].get("SecurityGroupIngress", []):
                source = rule.get("SourceSecurityGroupId")
                rules.append(
                    (
                        paths[f"{stack}:{logical_id}"],
                        _resolve(stack, env, source, paths) if source else "",
                        _port(template, rule["FromPort"]),
                        rule,
                    )
                )
        for rule in resources(template, "AWS::EC2::SecurityGroupIngress").values():
            properties = rule["Properties"]
            source = properties.get("SourceSecurityGroupId")
            rules.append(
                (
                    _resolve(stack, env, properties["GroupId"], paths),
                    _resolve(stack, env, source, paths) if source else "",
                    _port(template, properties["FromPort"]),
                    properties,
                )
            )
    return rules


@pytest.mark.parametrize("env", [*REAL_ENVS, TEST_ENV])
def test_ingress_only_from_named_groups(assembly: Assembly, env: str):
    rules = ingress_rules(assembly, env)
    glue_workers = {f"{env}/Realtime/RawStreamJobSg", f"{env}/Etl/EtlJobSg"}
    for target, source, _, raw in rules:
        assert source, f"{target} admits an address range: {raw}"
        assert not {"CidrIp", "CidrIpv6", "SourcePrefixListId"} & set(raw), raw
        if target == source and target in glue_workers:
            # Glue requires its workers' group to admit itself on every TCP port.
            assert (raw["FromPort"], raw["ToPort"]) == (0, 65535)
            continue
        assert raw["FromPort"] == raw["ToPort"], f"{target} opens a port range: {raw}"

    def grouped(port: int, target: str) -> set[str]:
        return {s.removeprefix(f"{env}/") for t, s, p, _ in rules if (t, p) == (target, port)}

    # QuickSight's VPC connection reads the warehouse and the live tables (where enabled).
    dashboards = load_config(env, synth_context()).dashboards.enabled
    quicksight = {"Dashboards/QuickSightSg"} if dashboards else set()
    assert grouped(5432, f"{env}/Oltp/DatabaseSg") == {
        "Oltp/DbMigratorSg",
        "Oltp/DbRotationSg",
        "Realtime/StreamProcessorSg",
        "Etl/EtlJobSg",
        "Ingest/RecommendationsSg",
        "Ml/PipelineJobsSg",
        *quicksight,
    }
    assert grouped(5439, f"{env}/Warehouse/WarehouseSg") == quicksight
    assert grouped(9098, f"{env}/Streaming/MskSg") == {
        "Streaming/KafkaAdminSg",
        "Streaming/MskSg",  # the event source mapping's pollers use the cluster's group
        "Warehouse/WarehouseSg",
        "Ingest/CollectorSg",
        "Realtime/StreamProcessorSg",
        "Realtime/RawStreamJobSg",
    }
    assert grouped(443, f"{env}/Network/EndpointsSg") == {
        "Oltp/DbMigratorSg",
        "Oltp/DbRotationSg",
        "Streaming/KafkaAdminSg",
        "Streaming/MskSg",
        "Warehouse/WarehouseSg",
        "Realtime/StreamProcessorSg",
        "Realtime/RawStreamJobSg",
        "Etl/EtlJobSg",
        "Ml/PipelineJobsSg",
    }
    assert {(t, p) for t, _, p, _ in rules} == {
        *(((f"{env}/Warehouse/WarehouseSg", 5439),) if quicksight else ()),
        (f"{env}/Oltp/DatabaseSg", 5432),
        (f"{env}/Streaming/MskSg", 9098),
        (f"{env}/Network/EndpointsSg", 443),
        *((group, 0) for group in glue_workers),
    }


@pytest.mark.parametrize("env", REAL_ENVS)
def test_data_store_groups_open_no_connections(assembly: Assembly, env: str):
    """Groups of things that never dial out keep CDK's deny-all egress placeholder only."""
    for stack, group_id in (
        ("Network", "EndpointsSg"),
        ("Oltp", "DatabaseSg"),
    ):
        groups = resources(assembly.template(env, stack), "AWS::EC2::SecurityGroup").values()
        group = next(g for g in groups if construct_path(g).endswith(f"/{group_id}"))
        egress = group["Properties"]["SecurityGroupEgress"]
        assert [rule["CidrIp"] for rule in egress] == ["255.255.255.255/32"]


@pytest.mark.parametrize("env", REAL_ENVS)
def test_msk_group_dials_only_its_brokers_and_the_endpoints(assembly: Assembly, env: str):
    """The MSK event source mapping polls with the cluster's own group, which therefore
    reaches the brokers (itself) and the Lambda/STS/SQS endpoints, and nothing else."""
    template = assembly.template(env, "Streaming")
    (group_id,) = [
        logical_id
        for logical_id, group in resources(template, "AWS::EC2::SecurityGroup").items()
        if construct_path(group).endswith("/MskSg")
    ]
    assert "SecurityGroupEgress" not in template["Resources"][group_id]["Properties"]
    paths = _group_paths(assembly.templates(env))
    egress = {
        (_resolve("Streaming", env, rule["Properties"]["DestinationSecurityGroupId"], paths),
         rule["Properties"]["FromPort"], rule["Properties"]["ToPort"])
        for rule in resources(template, "AWS::EC2::SecurityGroupEgress").values()
        if rule["Properties"]["GroupId"] == {"Fn::GetAtt": [group_id, "GroupId"]}
    }  # fmt: skip
    assert egress == {
        (f"{env}/Streaming/MskSg", 9098, 9098),
        (f"{env}/Network/EndpointsSg", 443, 443),
    }
