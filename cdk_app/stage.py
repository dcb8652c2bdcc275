"""One environment of the platform: every stack, wired through constructor props."""

from __future__ import annotations

from aws_cdk import Environment, Stage, Tags
from constructs import Construct

from cdk_app.config import PlatformConfig
from stacks.dashboards import DashboardsStack
from stacks.etl import EtlStack
from stacks.foundation import Foundation
from stacks.ingest import IngestStack
from stacks.lake import LakeStack
from stacks.ml import MlStack
from stacks.monitoring import MonitoringStack
from stacks.nag_acknowledgements import acknowledge_findings
from stacks.network import NetworkStack
from stacks.oltp import OltpStack
from stacks.realtime import RealtimeStack
from stacks.streaming import StreamingStack
from stacks.warehouse import WarehouseStack


class PlatformStage(Stage):
    """Stacks are named `<env>-<Concern>` (e.g. dev-Oltp); deploy one env with `<env>/*`."""

    def __init__(self, scope: Construct, *, config: PlatformConfig) -> None:
        env = (
            Environment(account=config.account, region=config.region)
            if config.account or config.region
            else None
        )
        super().__init__(scope, config.env_name, env=env)
        self.config = config
        label = f"e-commerce analytics platform ({config.env_name})"
        self.network = NetworkStack(
            self, "Network", config=config, description=f"Network: VPC, endpoints - {label}"
        )
        self.streaming = StreamingStack(
            self,
            "Streaming",
            config=config,
            network=self.network,
            description=f"Streaming: MSK and topics - {label}",
        )
        self.oltp = OltpStack(
            self,
            "Oltp",
            config=config,
            network=self.network,
            description=f"OLTP: RDS PostgreSQL and migrations - {label}",
        )
        self.lake = LakeStack(
            self, "Lake", config=config, description=f"Lake: S3 zones and Glue catalog - {label}"
        )
        self.warehouse = WarehouseStack(
            self,
            "Warehouse",
            config=config,
            network=self.network,
            lake=self.lake,
            streaming=self.streaming,
            description=f"Warehouse: Redshift - {label}",
        )
        self.monitoring = MonitoringStack(
            self,
            "Monitoring",
            config=config,
            oltp=self.oltp,
            streaming=self.streaming,
            warehouse=self.warehouse,
            description=f"Monitoring: alarms and dashboard - {label}",
        )
        # The data flows; their alarms join the dashboard through monitoring.section(...).
        foundation = Foundation(
            network=self.network,
            streaming=self.streaming,
            oltp=self.oltp,
            lake=self.lake,
            warehouse=self.warehouse,
            monitoring=self.monitoring,
        )
        self.ingest = IngestStack(
            self,
            "Ingest",
            config=config,
            foundation=foundation,
            description=f"Ingest: collector API - {label}",
        )
        self.realtime = RealtimeStack(
            self,
            "Realtime",
            config=config,
            foundation=foundation,
            description=f"Realtime: stream processor, raw stream, Redshift ingestion - {label}",
        )
        self.etl = EtlStack(
            self,
            "Etl",
            config=config,
            foundation=foundation,
            description=f"ETL: batch Glue jobs, workflow and quality rulesets - {label}",
        )
        self.ml = MlStack(
            self,
            "Ml",
            config=config,
            foundation=foundation,
            description=f"ML: SageMaker training and scoring pipelines - {label}",
        )
        self.ml.add_dependency(self.etl)
        if config.dashboards.enabled:
            self.dashboards = DashboardsStack(
                self,
                "Dashboards",
                config=config,
                foundation=foundation,
                description=f"Dashboards: QuickSight data source, datasets, dashboards - {label}",
            )
            # Datasets read the marts (loaded by Etl) and the real-time views (Realtime).
            self.dashboards.add_dependency(self.etl)
            self.dashboards.add_dependency(self.realtime)
        Tags.of(self).add("project", "ecommerce-analytics")
        Tags.of(self).add("environment", config.env_name)
        acknowledge_findings(self, config)
