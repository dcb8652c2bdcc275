"""Network: a private VPC, the VPC endpoints the platform calls and flow logs.

Security groups: one per service, created by the stack that owns the service, with ingress
only from the named groups that need it (never a CIDR). The endpoints' group lives here and
admits each client group through `admit_to_endpoints`.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Fn
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from stacks.platform_stack import PlatformStack
from stacks.retention import LOG_RETENTION, data_removal_policy

POSTGRES_PORT = 5432
MSK_IAM_PORT = 9098
REDSHIFT_PORT = 5439
HTTPS_PORT = 443

_INTERFACE_ENDPOINTS = {
    "SecretsManager": ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
    "Sts": ec2.InterfaceVpcEndpointAwsService.STS,
    "Glue": ec2.InterfaceVpcEndpointAwsService.GLUE,
    "Logs": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
    "Monitoring": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_MONITORING,
    "SageMakerApi": ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_API,
    "SageMakerRuntime": ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_RUNTIME,
    "RedshiftData": ec2.InterfaceVpcEndpointAwsService.REDSHIFT_DATA,
    "Kms": ec2.InterfaceVpcEndpointAwsService.KMS,
    # MSK event source mappings: pollers in these subnets call Lambda and park failed
    # batches on SQS (STS above serves them too).
    "Lambda": ec2.InterfaceVpcEndpointAwsService.LAMBDA_,
    "Sqs": ec2.InterfaceVpcEndpointAwsService.SQS,
    # SageMaker pipeline jobs in these subnets: the image registry (API and layers; layers
    # come through the S3 gateway endpoint).
    "EcrApi": ec2.InterfaceVpcEndpointAwsService.ECR,
    "EcrDocker": ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
}


class NetworkStack(PlatformStack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        config = self.config
        # AZs as Fn::GetAZs tokens keep synth offline and still give three AZs (Redshift
        # Serverless needs subnets in three) without an account/region lookup.
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(config.network.vpc_cidr),
            availability_zones=[
                Fn.select(index, Fn.get_azs()) for index in range(config.network.max_azs)
            ],
            nat_gateways=0,
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name="data", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=22
                )
            ],
        )
        self.private_subnets = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
        self._add_flow_logs()
        self.endpoints_security_group = ec2.SecurityGroup(
            self,
            "EndpointsSg",
            vpc=self.vpc,
            description="VPC interface endpoints",
            allow_all_outbound=False,
        )
        self.vpc.add_gateway_endpoint(
            "S3Endpoint",
            service=ec2.GatewayVpcEndpointAwsService.S3,
            subnets=[self.private_subnets],
        )
        for name, service in _INTERFACE_ENDPOINTS.items():
            self.vpc.add_interface_endpoint(
                f"{name}Endpoint",
                service=service,
                subnets=self.private_subnets,
                security_groups=[self.endpoints_security_group],
                private_dns_enabled=True,
                open=False,
            )

    def _add_flow_logs(self) -> None:
        config = self.config
        log_group = logs.LogGroup(
            self,
            "FlowLogGroup",
            retention=LOG_RETENTION[config.network.flow_log_retention_days],
            removal_policy=data_removal_policy(config),
        )
        role = iam.Role(
            self,
            "FlowLogRole",
            assumed_by=iam.ServicePrincipal("vpc-flow-logs.amazonaws.com"),
            description="Lets VPC flow logs write to the flow log group",
        )
        self.vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(log_group, role),
            traffic_type=ec2.FlowLogTrafficType.ALL,
        )

        CfnOutput(
            self,
            "VpcId",
            value=self.vpc.vpc_id,
            description="VPC of the platform (private isolated subnets only, no internet route)",
        )

    def admit_to_endpoints(self, client: ec2.ISecurityGroup) -> None:
        """Let one service's group reach the interface endpoints (HTTPS).

        The rule is created in the client's stack (remote rule), so this stack never depends
        on the stacks that use it.
        """
        self.endpoints_security_group.add_ingress_rule(
            client, ec2.Port.tcp(HTTPS_PORT), f"from {client.node.id}", remote_rule=True
        )
