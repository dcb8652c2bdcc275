"""Dashboards: the analysts' QuickSight dashboards over the warehouse, deployed as code.

- a VPC connection (its own role, trusted by QuickSight, that places network interfaces in the
  warehouse's private subnets, and its own security group, admitted to the warehouse's SQL
  port) so QuickSight reaches Redshift without a public endpoint;
- one Redshift data source through that connection, signing in with the warehouse's admin
  secret (QuickSight reads it itself: no password in the template);
- a shared folder holding everything below;
- every QuickSight resource shared with two existing groups named in config (they cannot be
  made by CloudFormation): the analysts read, the admins own.

The subscription, the groups and QuickSight's access to the secret are one-time steps outside
CloudFormation: docs/operations.md, "QuickSight prerequisites".
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Aws, CfnOutput
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_quicksight as quicksight
from constructs import Construct

from cdk_app.config import DashboardsConfig
from stacks.foundation import Foundation
from stacks.network import REDSHIFT_PORT
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
# The EC2 calls QuickSight makes with the VPC connection's role to manage its interfaces.
VPC_CONNECTION_ACTIONS = [
    "ec2:CreateNetworkInterface",
    "ec2:ModifyNetworkInterfaceAttribute",
    "ec2:DeleteNetworkInterface",
    "ec2:DescribeSubnets",
    "ec2:DescribeSecurityGroups",
]


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


class DashboardsStack(PlatformStack):
    def __init__(
        self, scope: Construct, construct_id: str, *, foundation: Foundation, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
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
        self.data_source = self._data_source(foundation)

    def permissions(self, kind: str) -> list[dict[str, Any]]:
        """Viewer actions for the analysts' group, owner actions for the admins' group (the
        ResourcePermission shape every QuickSight resource takes)."""
        return [
            {"principal": principal, "actions": ACTIONS[kind][role]}
            for principal, role in ((self.readers, "viewer"), (self.owners, "owner"))
        ]

    def _vpc_connection(self, foundation: Foundation) -> quicksight.CfnVPCConnection:
        """QuickSight's network interfaces in the warehouse's subnets. Their group sends only to
        the warehouse's port and admits replies from the warehouse's group: QuickSight's
        interfaces do not track connections, so the return path needs its own rule."""
        warehouse = foundation.warehouse
        security_group = ec2.SecurityGroup(
            self,
            "QuickSightSg",
            vpc=foundation.network.vpc,
            description="QuickSight VPC connection to the warehouse",
            allow_all_outbound=False,
        )
        security_group.add_egress_rule(
            warehouse.security_group, ec2.Port.tcp(REDSHIFT_PORT), "to the warehouse"
        )
        security_group.add_ingress_rule(
            warehouse.security_group, ec2.Port.all_tcp(), "replies from the warehouse"
        )
        warehouse.admit_clients(security_group)
        role = iam.Role(
            self,
            "VpcConnectionRole",
            assumed_by=iam.ServicePrincipal("quicksight.amazonaws.com"),
            description="QuickSight creates and removes the network interfaces of its VPC"
            " connection to the warehouse",
        )
        role.add_to_policy(iam.PolicyStatement(actions=VPC_CONNECTION_ACTIONS, resources=["*"]))
        connection = quicksight.CfnVPCConnection(
            self,
            "VpcConnection",
            aws_account_id=Aws.ACCOUNT_ID,
            vpc_connection_id=f"{self.prefix}-warehouse",
            name=f"{self.prefix} warehouse",
            role_arn=role.role_arn,
            security_group_ids=[security_group.security_group_id],
            subnet_ids=warehouse.subnet_ids,
        )
        # The role's policy must exist before QuickSight uses the role to place interfaces.
        connection.node.add_dependency(role)
        return connection

    def _data_source(self, foundation: Foundation) -> quicksight.CfnDataSource:
        warehouse = foundation.warehouse
        return quicksight.CfnDataSource(
            self,
            "WarehouseDataSource",
            aws_account_id=Aws.ACCOUNT_ID,
            data_source_id=f"{self.prefix}-warehouse",
            name=f"{self.prefix} warehouse (Redshift)",
            type="REDSHIFT",
            data_source_parameters=quicksight.CfnDataSource.DataSourceParametersProperty(
                redshift_parameters=quicksight.CfnDataSource.RedshiftParametersProperty(
                    host=warehouse.endpoint_address,
                    port=REDSHIFT_PORT,
                    database=self.config.warehouse.database_name,
                )
            ),
            credentials=quicksight.CfnDataSource.DataSourceCredentialsProperty(
                secret_arn=warehouse.admin_secret_arn
            ),
            vpc_connection_properties=quicksight.CfnDataSource.VpcConnectionPropertiesProperty(
                vpc_connection_arn=self.vpc_connection.attr_arn
            ),
            ssl_properties=quicksight.CfnDataSource.SslPropertiesProperty(disable_ssl=False),
            folder_arns=[self.folder.attr_arn],
            permissions=self.permissions("data_source"),
        )

    def _outputs(self, dashboards: dict[str, str]) -> None:
        """`dashboards`: output name stem -> dashboard id."""
        for stem, dashboard_id in dashboards.items():
            CfnOutput(
                self,
                f"{stem}DashboardId",
                value=dashboard_id,
                description=f"QuickSight dashboard id of {stem}",
            )
            CfnOutput(
                self,
                f"{stem}DashboardUrl",
                value=console_url(dashboard_id),
                description=f"Console URL of the {stem} dashboard (QuickSight sign-in)",
            )
