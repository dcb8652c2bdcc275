"""The stacks the platform's data flows run on, handed as one value to the stacks that build
those flows (Ingest, Realtime, Etl, and the ML and dashboard stacks to come), so each takes the
same one argument rather than its own list of stacks."""

from __future__ import annotations

from dataclasses import dataclass

from stacks.lake import LakeStack
from stacks.monitoring import MonitoringStack
from stacks.network import NetworkStack
from stacks.oltp import OltpStack
from stacks.streaming import StreamingStack
from stacks.warehouse import WarehouseStack


@dataclass(frozen=True)
class Foundation:
    """Network, MSK, the OLTP database, the lake, the warehouse, and monitoring (whose
    `section()` takes each flow's alarms)."""

    network: NetworkStack
    streaming: StreamingStack
    oltp: OltpStack
    lake: LakeStack
    warehouse: WarehouseStack
    monitoring: MonitoringStack
