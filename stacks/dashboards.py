"""Dashboards: the analysts' QuickSight dashboards over the warehouse, deployed as code.

- a VPC connection (its own role, trusted by QuickSight, that places network interfaces in the
  platform's private subnets, and its own security group, admitted to the warehouse's and the
  OLTP database's ports) so QuickSight reaches both without a public endpoint;
- a data source per source the datasets read, through that connection: the Redshift
  warehouse (marts, scores), and the OLTP PostgreSQL for the stream processor's real-time
  tables; each signs in with its database's secret (QuickSight reads it itself: no password
  in the template);
- a shared folder holding everything below;
- a dataset per dataset definition (quicksight_templates/datasets.yaml: custom SQL with its
  declared columns, SPICE or direct query), a refresh schedule for each SPICE one, and an
  analysis and a dashboard per dashboard definition (quicksight_templates/dashboards/), their
  Definition built by quicksight_templates/quicksight.py;
- every QuickSight resource shared with two existing groups named in config (they cannot be
  made by CloudFormation): the analysts read, the admins own.

The subscription, the groups and QuickSight's access to the secrets are one-time steps outside
CloudFormation: docs/operations.md, "QuickSight prerequisites".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import Aws, CfnOutput
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_quicksight as quicksight
from constructs import Construct

from cdk_app.config import DashboardsConfig
from quicksight_templates.loader import load_definitions
from quicksight_templates.model import Dashboard, Dataset, Source
from quicksight_templates.quicksight import data_set_properties, definition, refresh_schedule
from stacks.foundation import Foundation
from stacks.network import POSTGRES_PORT, REDSHIFT_PORT
from stacks.platform_stack import PlatformStack

# What each group may do with each kind of resource, as QuickSight's console grants it:
# a viewer set for the analysts and an owner set for the admins.
_DATA_SOURCE_VIEWER = [
    "quicksight:DescribeDataSource",
    "quicksight:DescribeDataSourcePermissions",
    "quicksight:PassDataSource",
]
_DATA_SET_VIEWER = [
    "quicksight:DescribeDataSet",
    "quicksight:DescribeDataSetPermissions",
    "quicksight:PassDataSet",
    "quicksight:DescribeIngestion",
    "quicksight:ListIngestions",
]
_ANALYSIS_VIEWER = [
    "quicksight:DescribeAnalysis",
    "quicksight:DescribeAnalysisPermissions",
    "quicksight:QueryAnalysis",
]
_DASHBOARD_VIEWER = [
    "quicksight:DescribeDashboard",
    "quicksight:ListDashboardVersions",
    "quicksight:QueryDashboard",
]
_FOLDER_VIEWER = ["quicksight:DescribeFolder"]
ACTIONS: dict[str, dict[str, list[str]]] = {
    "data_source": {
        "viewer": _DATA_SOURCE_VIEWER,
        "owner": [
            *_DATA_SOURCE_VIEWER,
            "quicksight:UpdateDataSource",
            "quicksight:DeleteDataSource",
            "quicksight:UpdateDataSourcePermissions",
        ],
    },
    "data_set": {
        "viewer": _DATA_SET_VIEWER,
        "owner": [
            *_DATA_SET_VIEWER,
            "quicksight:UpdateDataSet",
            "quicksight:DeleteDataSet",
            "quicksight:CreateIngestion",
            "quicksight:CancelIngestion",
            "quicksight:UpdateDataSetPermissions",
        ],
    },
    "analysis": {
        "viewer": _ANALYSIS_VIEWER,
        "owner": [
            *_ANALYSIS_VIEWER,
            "quicksight:UpdateAnalysis",
            "quicksight:RestoreAnalysis",
            "quicksight:DeleteAnalysis",
            "quicksight:UpdateAnalysisPermissions",
        ],
    },
    "dashboard": {
        "viewer": _DASHBOARD_VIEWER,
        "owner": [
            *_DASHBOARD_VIEWER,
            "quicksight:DescribeDashboardPermissions",
            "quicksight:UpdateDashboard",
            "quicksight:DeleteDashboard",
            "quicksight:UpdateDashboardPermissions",
            "quicksight:UpdateDashboardPublishedVersion",
        ],
    },
    "folder": {
        "viewer": _FOLDER_VIEWER,
        "owner": [
            *_FOLDER_VIEWER,
            "quicksight:CreateFolder",
            "quicksight:UpdateFolder",
            "quicksight:DeleteFolder",
            "quicksight:CreateFolderMembership",
            "quicksight:DeleteFolderMembership",
            "quicksight:DescribeFolderPermissions",
            "quicksight:UpdateFolderPermissions",
        ],
    },
}
# The EC2 calls QuickSight makes with the VPC connection's role: it describes the subnets and
# groups it is given (no resource ARN) and manages its interfaces, which only exist at run time.
VPC_CONNECTION_DESCRIBE = ["ec2:DescribeSubnets", "ec2:DescribeSecurityGroups"]
VPC_CONNECTION_INTERFACES = [
    "ec2:CreateNetworkInterface",
    "ec2:ModifyNetworkInterfaceAttribute",
    "ec2:DeleteNetworkInterface",
]
NETWORK_RESOURCE_KINDS = ("network-interface", "subnet", "security-group")


def group_arn(config: DashboardsConfig, group: str) -> str:
    """A group's ARN: as configured when it is one, else built from the name in this account
    (QuickSight keeps users and groups in the identity region, this region unless set)."""
    if group.startswith("arn:"):
        return group
    region = config.identity_region or Aws.REGION
    return (
        f"arn:{Aws.PARTITION}:quicksight:{region}:{Aws.ACCOUNT_ID}:group/{config.namespace}/{group}"
    )


def console_url(dashboard_id: str) -> str:
    return f"https://{Aws.REGION}.quicksight.aws.amazon.com/sn/dashboards/{dashboard_id}"


def construct_name(definition_id: str) -> str:
    """`sales_daily` / `real-time` -> `SalesDaily` / `RealTime` (logical ids, output names)."""
    return "".join(part.title() for part in definition_id.replace("-", "_").split("_"))


class DashboardsStack(PlatformStack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        foundation: Foundation,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        definitions = load_definitions()
        settings = self.config.dashboards
        self.readers = group_arn(settings, settings.group("analysts"))
        self.owners = group_arn(settings, settings.group("admins"))
        self.vpc_connection = self._vpc_connection(foundation)
        self.folder = quicksight.CfnFolder(
            self,
            "Folder",
            aws_account_id=Aws.ACCOUNT_ID,
            folder_id=self.prefix,
            name=f"E-commerce analytics ({self.config.env_name})",
            folder_type="SHARED",
            permissions=self.permissions("folder"),
        )
        sources = {dataset.source for dataset in definitions.datasets.values()}
        self.data_sources = {
            source: self._data_source(foundation, source) for source in sorted(sources)
        }
        self.data_sets = {
            dataset.id: self._data_set(dataset, definitions.sql[dataset.id])
            for dataset in definitions.datasets.values()
        }
        self.dashboard_ids = {
            dashboard.id: self._analysis_and_dashboard(dashboard, definitions.datasets)
            for dashboard in definitions.dashboards.values()
        }
        self._outputs()

    def permissions(self, kind: str) -> list[dict[str, Any]]:
        """Viewer actions for the analysts' group, owner actions for the admins' group (the
        ResourcePermission shape every QuickSight resource takes)."""
        return [
            {"principal": principal, "actions": ACTIONS[kind][role]}
            for principal, role in ((self.readers, "viewer"), (self.owners, "owner"))
        ]

    def _vpc_connection(self, foundation: Foundation) -> quicksight.CfnVPCConnection:
        """QuickSight's network interfaces in the platform's private subnets. Their group admits
        nothing and sends only to the warehouse's and the OLTP database's ports. (VPC
        connections made since April 2023 track connections, so replies need no inbound rule;
        the "allow all TCP back" rule of QuickSight's older guide is for connections made
        before.)"""
        warehouse, database = foundation.warehouse, foundation.oltp.database
        security_group = ec2.SecurityGroup(
            self,
            "QuickSightSg",
            vpc=foundation.network.vpc,
            description="QuickSight VPC connection to the warehouse and the OLTP database",
            allow_all_outbound=False,
        )
        for name, server, port in (
            ("the warehouse", warehouse.security_group, REDSHIFT_PORT),
            ("the OLTP database", database.security_group, POSTGRES_PORT),
        ):
            security_group.add_egress_rule(server, ec2.Port.tcp(port), f"to {name}")
        warehouse.admit_clients(security_group)
        database.admit_clients(security_group)
        role = iam.Role(
            self,
            "VpcConnectionRole",
            assumed_by=iam.ServicePrincipal("quicksight.amazonaws.com"),
            description="QuickSight creates and removes the network interfaces of its VPC"
            " connection to the platform's databases",
        )
        ec2_arn = f"arn:{Aws.PARTITION}:ec2:{Aws.REGION}:{Aws.ACCOUNT_ID}"
        role.add_to_policy(iam.PolicyStatement(actions=VPC_CONNECTION_DESCRIBE, resources=["*"]))
        role.add_to_policy(
            iam.PolicyStatement(
                actions=VPC_CONNECTION_INTERFACES,
                resources=[f"{ec2_arn}:{kind}/*" for kind in NETWORK_RESOURCE_KINDS],
                conditions={"ArnEquals": {"ec2:Vpc": foundation.network.vpc.vpc_arn}},
            )
        )
        connection = quicksight.CfnVPCConnection(
            self,
            "VpcConnection",
            aws_account_id=Aws.ACCOUNT_ID,
            vpc_connection_id=f"{self.prefix}-databases",
            name=f"{self.prefix} warehouse and OLTP database",
            role_arn=role.role_arn,
            security_group_ids=[security_group.security_group_id],
            subnet_ids=warehouse.subnet_ids,
        )
        # The role's policy must exist before QuickSight uses the role to place interfaces.
        connection.node.add_dependency(role.node.find_child("DefaultPolicy"))
        return connection

    def _data_source(self, foundation: Foundation, source: Source) -> quicksight.CfnDataSource:
        """The warehouse (Redshift) or the live tables (the OLTP PostgreSQL), through the VPC
        connection, over TLS, signing in with the database's own secret."""
        if source == "warehouse":
            kind, secret_arn = "REDSHIFT", foundation.warehouse.admin_secret_arn
            parameters = {
                "redshift_parameters": quicksight.CfnDataSource.RedshiftParametersProperty(
                    host=foundation.warehouse.endpoint_address,
                    port=REDSHIFT_PORT,
                    database=self.config.warehouse.database_name,
                )
            }
        else:
            database = foundation.oltp.database
            kind, secret_arn = "POSTGRESQL", database.secret.secret_arn
            parameters = {
                "postgre_sql_parameters": quicksight.CfnDataSource.PostgreSqlParametersProperty(
                    host=database.instance.db_instance_endpoint_address,
                    port=POSTGRES_PORT,
                    database=database.name,
                )
            }
        return quicksight.CfnDataSource(
            self,
            f"{construct_name(source)}DataSource",
            aws_account_id=Aws.ACCOUNT_ID,
            data_source_id=f"{self.prefix}-{source}",
            name=f"{self.prefix} {source} ({kind.lower()})",
            type=kind,
            data_source_parameters=quicksight.CfnDataSource.DataSourceParametersProperty(
                **parameters
            ),
            credentials=quicksight.CfnDataSource.DataSourceCredentialsProperty(
                secret_arn=secret_arn
            ),
            vpc_connection_properties=quicksight.CfnDataSource.VpcConnectionPropertiesProperty(
                vpc_connection_arn=self.vpc_connection.attr_arn
            ),
            ssl_properties=quicksight.CfnDataSource.SslPropertiesProperty(disable_ssl=False),
            folder_arns=[self.folder.attr_arn],
            permissions=self.permissions("data_source"),
        )

    def _data_set(self, dataset: Dataset, sql: str) -> quicksight.CfnDataSet:
        name = construct_name(dataset.id)
        data_set_id = f"{self.prefix}-{dataset.id}"
        properties = data_set_properties(dataset, sql, self.data_sources[dataset.source].attr_arn)
        data_set = quicksight.CfnDataSet(
            self,
            f"{name}DataSet",
            aws_account_id=Aws.ACCOUNT_ID,
            data_set_id=data_set_id,
            name=dataset.title,
            import_mode=properties["ImportMode"],
            folder_arns=[self.folder.attr_arn],
            permissions=self.permissions("data_set"),
        )
        data_set.add_property_override("PhysicalTableMap", properties["PhysicalTableMap"])
        if dataset.import_mode == "SPICE":
            overrides = self.config.dashboards.refresh
            schedule = quicksight.CfnRefreshSchedule(
                self,
                f"{name}Refresh",
                aws_account_id=Aws.ACCOUNT_ID,
                data_set_id=data_set_id,
            )
            schedule.add_property_override(
                "Schedule",
                refresh_schedule(
                    dataset,
                    interval=overrides.interval,
                    time_of_day=overrides.time_of_day,
                    time_zone=overrides.time_zone,
                ),
            )
            # The schedule names its dataset by id only: nothing else orders them.
            schedule.node.add_dependency(data_set)
        return data_set

    def _analysis_and_dashboard(self, dashboard: Dashboard, datasets: Mapping[str, Dataset]) -> str:
        """The analysis (where admins edit) and the published dashboard of one definition;
        returns the dashboard's id."""
        name = construct_name(dashboard.id)
        arns = {
            dataset_id: self.data_sets[dataset_id].attr_arn for dataset_id in dashboard.dataset_ids
        }
        body = definition(dashboard, datasets, arns)
        analysis = quicksight.CfnAnalysis(
            self,
            f"{name}Analysis",
            aws_account_id=Aws.ACCOUNT_ID,
            analysis_id=f"{self.prefix}-{dashboard.id}-analysis",
            name=dashboard.title,
            folder_arns=[self.folder.attr_arn],
            permissions=self.permissions("analysis"),
        )
        analysis.add_property_override("Definition", body)
        dashboard_id = f"{self.prefix}-{dashboard.id}"
        published = quicksight.CfnDashboard(
            self,
            f"{name}Dashboard",
            aws_account_id=Aws.ACCOUNT_ID,
            dashboard_id=dashboard_id,
            name=dashboard.title,
            version_description=dashboard.description,
            folder_arns=[self.folder.attr_arn],
            permissions=self.permissions("dashboard"),
            dashboard_publish_options=quicksight.CfnDashboard.DashboardPublishOptionsProperty(
                ad_hoc_filtering_option=quicksight.CfnDashboard.AdHocFilteringOptionProperty(
                    availability_status="DISABLED"
                ),
                export_to_csv_option=quicksight.CfnDashboard.ExportToCSVOptionProperty(
                    availability_status="ENABLED"
                ),
                sheet_controls_option=quicksight.CfnDashboard.SheetControlsOptionProperty(
                    visibility_state="EXPANDED"
                ),
            ),
        )
        published.add_property_override("Definition", body)
        return dashboard_id

    def _outputs(self) -> None:
        for definition_id, dashboard_id in self.dashboard_ids.items():
            stem = construct_name(definition_id)
            CfnOutput(
                self,
                f"{stem}DashboardId",
                value=dashboard_id,
                description=f"QuickSight dashboard id of the {definition_id} dashboard",
            )
            CfnOutput(
                self,
                f"{stem}DashboardUrl",
                value=console_url(dashboard_id),
                description=f"Console URL of the {definition_id} dashboard (QuickSight sign-in)",
            )
