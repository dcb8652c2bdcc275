"""Dashboards stack: QuickSight over the warehouse and the live tables, private and shared
only with the two configured groups; absent where config turns it off."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from synthesized import TEST_ENV, TEST_GROUPS, Assembly, resources, synth_context

from cdk_app.config import load_config
from quicksight_templates.loader import load_definitions
from quicksight_templates.quicksight import definition

pytestmark = pytest.mark.infra

ENABLED = ("prod", TEST_ENV)
SHARED_TYPES = (
    "AWS::QuickSight::DataSource",
    "AWS::QuickSight::DataSet",
    "AWS::QuickSight::Analysis",
    "AWS::QuickSight::Dashboard",
    "AWS::QuickSight::Folder",
)
# What the template shows for each group: the ARN built from the name (prod), or as given.
GROUPS = {
    "prod": {
        role: "arn:<AWS::Partition>:quicksight:<AWS::Region>:<AWS::AccountId>:group/default/"
        f"ecommerce-{role}"
        for role in ("analysts", "admins")
    },
    TEST_ENV: TEST_GROUPS,
}
# CloudFormation's limit for a template deployed from S3 (CDK uploads large ones there).
MAX_TEMPLATE_BYTES = 1_000_000
DEFINITIONS = load_definitions()


def _text(value: Any) -> str:
    """A string, a Ref or an Fn::Join of both, with pseudo parameters shown as <AWS::...>."""
    if isinstance(value, str):
        return value
    if "Ref" in value:
        return f"<{value['Ref']}>"
    separator, parts = value["Fn::Join"]
    return separator.join(_text(part) for part in parts)


def _template(assembly: Assembly, env: str) -> dict[str, Any]:
    return assembly.template(env, "Dashboards")


def _by_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource["Properties"]
        for logical_id, resource in resources(template, f"AWS::QuickSight::{kind}").items()
    }


def test_dev_turns_dashboards_off_and_deploys_no_quicksight_resource(assembly: Assembly):
    assert load_config("dev", synth_context()).dashboards.enabled is False
    stacks = {stack for env, stack in assembly.templates() if env == "dev"}
    assert "Dashboards" not in stacks
    assert len(stacks) == 10
    for template in assembly.templates("dev").values():
        types = {r["Type"] for r in template["Resources"].values()}
        assert not [t for t in types if t.startswith("AWS::QuickSight::")]


@pytest.mark.parametrize("env", ENABLED)
def test_every_quicksight_resource_is_shared_with_exactly_the_two_groups(
    assembly: Assembly, env: str
):
    template = _template(assembly, env)
    checked = 0
    for kind in SHARED_TYPES:
        for logical_id, resource in resources(template, kind).items():
            permissions = resource["Properties"]["Permissions"]
            by_group = {_text(p["Principal"]): set(p["Actions"]) for p in permissions}
            assert len(permissions) == 2, logical_id
            readers, owners = by_group[GROUPS[env]["analysts"]], by_group[GROUPS[env]["admins"]]
            assert readers < owners, logical_id  # the analysts read; the admins own
            assert all(a.startswith("quicksight:") and "*" not in a for a in owners)
            assert not {a for a in readers if a.split(":")[1].startswith(("Update", "Delete"))}
            checked += 1
    # one folder, two data sources, the datasets, an analysis and a dashboard per definition
    assert checked == 1 + 2 + len(DEFINITIONS.datasets) + 2 * len(DEFINITIONS.dashboards)


@pytest.mark.parametrize("env", ENABLED)
def test_nothing_is_public(assembly: Assembly, env: str):
    template = _template(assembly, env)
    for properties in _by_type(template, "Dashboard").values():
        assert "LinkSharingConfiguration" not in properties
        assert "LinkEntities" not in properties
        options = properties["DashboardPublishOptions"]
        assert options["AdHocFilteringOption"] == {"AvailabilityStatus": "DISABLED"}
    text = json.dumps(template)
    assert '"Principal": "*"' not in text
    assert "0.0.0.0/0" not in text


@pytest.mark.parametrize("env", ENABLED)
def test_data_sources_go_through_the_vpc_connection_with_their_database_secret(
    assembly: Assembly, env: str
):
    template = _template(assembly, env)
    (connection_id,) = _by_type(template, "VPCConnection")
    sources = {p["Type"]: p for p in _by_type(template, "DataSource").values()}
    assert set(sources) == {"REDSHIFT", "POSTGRESQL"}
    for kind, owner in (("REDSHIFT", "Warehouse"), ("POSTGRESQL", "Oltp")):
        source = sources[kind]
        assert source["VpcConnectionProperties"] == {
            "VpcConnectionArn": {"Fn::GetAtt": [connection_id, "Arn"]}
        }
        assert source["SslProperties"] == {"DisableSsl": False}
        # Only a secret reference: no user name or password in the template.
        assert list(source["Credentials"]) == ["SecretArn"]
        imported = source["Credentials"]["SecretArn"]["Fn::GetStackOutput"]
        assert imported["StackName"] == f"{env}-{owner}"
    config = load_config(env, synth_context())
    assert sources["REDSHIFT"]["DataSourceParameters"]["RedshiftParameters"]["Port"] == 5439
    assert sources["REDSHIFT"]["DataSourceParameters"]["RedshiftParameters"]["Database"] == (
        config.warehouse.database_name
    )
    postgres = sources["POSTGRESQL"]["DataSourceParameters"]["PostgreSqlParameters"]
    assert (postgres["Port"], postgres["Database"]) == (5432, config.oltp.database_name)


@pytest.mark.parametrize("env", ENABLED)
def test_vpc_connection_role_group_and_subnets(assembly: Assembly, env: str):
    template = _template(assembly, env)
    (connection,) = _by_type(template, "VPCConnection").values()
    role_id = connection["RoleArn"]["Fn::GetAtt"][0]
    trust = template["Resources"][role_id]["Properties"]["AssumeRolePolicyDocument"]
    assert trust["Statement"] == [
        {
            "Action": "sts:AssumeRole",
            "Effect": "Allow",
            "Principal": {"Service": "quicksight.amazonaws.com"},
        }
    ]
    (policy,) = resources(template, "AWS::IAM::Policy").values()
    describe, interfaces = policy["Properties"]["PolicyDocument"]["Statement"]
    # Describing takes no resource; the interfaces are managed in the platform VPC only.
    assert (sorted(describe["Action"]), describe["Resource"]) == (
        ["ec2:DescribeSecurityGroups", "ec2:DescribeSubnets"],
        "*",
    )
    assert sorted(interfaces["Action"]) == [
        "ec2:CreateNetworkInterface",
        "ec2:DeleteNetworkInterface",
        "ec2:ModifyNetworkInterfaceAttribute",
    ]
    assert sorted(_text(arn).rsplit(":", 1)[1] for arn in interfaces["Resource"]) == [
        "network-interface/*",
        "security-group/*",
        "subnet/*",
    ]
    vpc = interfaces["Condition"]["ArnEquals"]["ec2:Vpc"]
    assert f"{env}-Network" in json.dumps(vpc)
    # One private subnet per AZ of the environment (QuickSight needs two AZs at least).
    subnets = connection["SubnetIds"]
    assert len(subnets) == load_config(env, synth_context()).network.max_azs
    assert all(s["Fn::GetStackOutput"]["StackName"] == f"{env}-Network" for s in subnets)
    (group_id,) = resources(template, "AWS::EC2::SecurityGroup")
    assert connection["SecurityGroupIds"] == [{"Fn::GetAtt": [group_id, "GroupId"]}]
    group = template["Resources"][group_id]["Properties"]
    assert "SecurityGroupIngress" not in group  # admits nothing
    egress = {
        (
            rule["Properties"]["DestinationSecurityGroupId"]["Fn::GetStackOutput"]["StackName"],
            rule["Properties"]["FromPort"],
            rule["Properties"]["ToPort"],
        )
        for rule in resources(template, "AWS::EC2::SecurityGroupEgress").values()
        if rule["Properties"]["GroupId"] == {"Fn::GetAtt": [group_id, "GroupId"]}
    }
    assert egress == {(f"{env}-Warehouse", 5439, 5439), (f"{env}-Oltp", 5432, 5432)}


@pytest.mark.parametrize("env", ENABLED)
def test_datasets_read_their_source_and_only_spice_ones_refresh(assembly: Assembly, env: str):
    template = _template(assembly, env)
    prefix = f"ecommerce-{env}-"
    source_ids = {p["Type"]: lid for lid, p in _by_type(template, "DataSource").items()}
    data_sets = {
        p["DataSetId"].removeprefix(prefix): (lid, p)
        for lid, p in _by_type(template, "DataSet").items()
    }
    assert set(data_sets) == set(DEFINITIONS.datasets)
    for dataset_id, (_, properties) in data_sets.items():
        dataset = DEFINITIONS.datasets[dataset_id]
        assert properties["ImportMode"] == dataset.import_mode
        (table,) = properties["PhysicalTableMap"].values()
        kind = "REDSHIFT" if dataset.source == "warehouse" else "POSTGRESQL"
        assert table["CustomSql"]["DataSourceArn"] == {"Fn::GetAtt": [source_ids[kind], "Arn"]}
        assert table["CustomSql"]["SqlQuery"] == DEFINITIONS.sql[dataset_id]
        assert [c["Name"] for c in table["CustomSql"]["Columns"]] == [
            c.name for c in dataset.columns
        ]
    schedules = resources(template, "AWS::QuickSight::RefreshSchedule")
    spice = {d.id for d in DEFINITIONS.datasets.values() if d.import_mode == "SPICE"}
    assert spice
    assert spice != set(DEFINITIONS.datasets)  # both kinds exist
    refreshed = {}
    for schedule in schedules.values():
        dataset_id = schedule["Properties"]["DataSetId"].removeprefix(prefix)
        # Named by id only, so the dependency on the dataset is explicit.
        assert schedule["DependsOn"] == [data_sets[dataset_id][0]]
        refreshed[dataset_id] = schedule["Properties"]["Schedule"]["ScheduleFrequency"]
    assert set(refreshed) == spice
    if env == "prod":  # cdk.json moves the time after prod's earlier batch
        assert {json.dumps(f, sort_keys=True) for f in refreshed.values()} == {
            json.dumps({"Interval": "DAILY", "TimeOfTheDay": "06:00", "TimeZone": "UTC"})
        }
    else:  # the test environment refreshes hourly in its own zone
        assert {json.dumps(f, sort_keys=True) for f in refreshed.values()} == {
            json.dumps({"Interval": "HOURLY", "TimeZone": "Europe/Paris"})
        }


@pytest.mark.parametrize("env", ENABLED)
def test_each_definition_is_an_analysis_and_a_dashboard_with_the_generated_definition(
    assembly: Assembly, env: str
):
    template = _template(assembly, env)
    prefix = f"ecommerce-{env}-"
    data_set_ids = {
        p["DataSetId"].removeprefix(prefix): lid for lid, p in _by_type(template, "DataSet").items()
    }
    arns = {dataset_id: {"Fn::GetAtt": [lid, "Arn"]} for dataset_id, lid in data_set_ids.items()}
    analyses = {p["AnalysisId"]: p for p in _by_type(template, "Analysis").values()}
    dashboards = {p["DashboardId"]: p for p in _by_type(template, "Dashboard").values()}
    assert set(dashboards) == {prefix + d for d in DEFINITIONS.dashboards}
    (folder_id,) = _by_type(template, "Folder")
    for dashboard in DEFINITIONS.dashboards.values():
        expected = definition(dashboard, DEFINITIONS.datasets, arns)
        published = dashboards[prefix + dashboard.id]
        analysis = analyses[f"{prefix}{dashboard.id}-analysis"]
        assert published["Definition"] == analysis["Definition"] == expected
        assert published["Name"] == analysis["Name"] == dashboard.title
        for resource in (published, analysis):
            assert resource["FolderArns"] == [{"Fn::GetAtt": [folder_id, "Arn"]}]


@pytest.mark.parametrize("env", ENABLED)
def test_outputs_name_each_dashboard_and_its_console_url(assembly: Assembly, env: str):
    outputs = _template(assembly, env)["Outputs"]
    for dashboard_id in DEFINITIONS.dashboards:
        stem = "".join(part.title() for part in dashboard_id.split("-"))
        assert outputs[f"{stem}DashboardId"]["Value"] == f"ecommerce-{env}-{dashboard_id}"
        assert _text(outputs[f"{stem}DashboardUrl"]["Value"]) == (
            f"https://<AWS::Region>.quicksight.aws.amazon.com/sn/dashboards/"
            f"ecommerce-{env}-{dashboard_id}"
        )


@pytest.mark.parametrize("env", ENABLED)
def test_template_fits_cloudformation(assembly: Assembly, env: str):
    (path,) = [p for p in assembly.template_files() if f"{env}Dashboards" in p.name]
    assert path.stat().st_size < MAX_TEMPLATE_BYTES


def test_dashboards_deploy_after_the_flows_that_fill_their_tables(assembly: Assembly):
    manifest = json.loads((assembly.outdir / "assembly-prod" / "manifest.json").read_text())
    stack_names = {
        name: re.fullmatch(r"prod([A-Za-z]+)[0-9A-F]{8}", name)
        for name, artifact in manifest["artifacts"].items()
        if artifact["type"] == "aws:cloudformation:stack"
    }
    stacks = {match.group(1): name for name, match in stack_names.items() if match}
    depends = manifest["artifacts"][stacks["Dashboards"]]["dependencies"]
    assert {"Etl", "Realtime", "Warehouse", "Oltp", "Network"} <= {
        stack for stack, name in stacks.items() if name in depends
    }


def test_a_bad_definition_stops_synth_with_the_file_and_key(
    monkeypatch: pytest.MonkeyPatch, tmp_path
):
    from pathlib import Path

    import stacks.dashboards
    from cdk_app import app
    from quicksight_templates.loader import DefinitionError

    def broken_definitions():
        raise DefinitionError(Path("dashboards/sales.yaml"), "sheets[0].visuals[2].dataset", "x")

    monkeypatch.setattr(stacks.dashboards, "load_definitions", broken_definitions)
    monkeypatch.setenv("CDK_CONTEXT_JSON", json.dumps({"env": "prod"}))
    monkeypatch.setenv("CDK_OUTDIR", str(tmp_path))
    with pytest.raises(SystemExit) as stopped:
        app.main()
    assert str(stopped.value) == (
        "dashboard definition error: dashboards/sales.yaml: sheets[0].visuals[2].dataset: x"
    )
