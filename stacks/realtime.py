"""Realtime: the consumers of the events topic, one construct each.

- the stream processor Lambda, fed by an MSK event source mapping, its failed batches parked
  on an SQS queue (stacks/constructs/stream_processor.py);
- the Glue streaming job that lands the topic in the raw zone, in the VPC through a Kafka
  connection (stacks/constructs/raw_stream_job.py);
- Redshift streaming ingestion, applied through the Data API
  (stacks/constructs/streaming_ingestion.py);
- alarms on consumer lag, Lambda errors and throttles, and parked batches.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput
from constructs import Construct

from stacks.constructs.raw_stream_job import RawStreamJob
from stacks.constructs.stream_processor import StreamProcessor
from stacks.constructs.streaming_ingestion import STREAMING_VIEW, streaming_ingestion
from stacks.foundation import Foundation
from stacks.platform_stack import PlatformStack


class RealtimeStack(PlatformStack):
    def __init__(
        self, scope: Construct, construct_id: str, *, foundation: Foundation, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        network, streaming = foundation.network, foundation.streaming
        self.processor = StreamProcessor(
            self, network=network, streaming=streaming, database=foundation.oltp.database
        )
        self.raw_stream = RawStreamJob(
            self, network=network, streaming=streaming, lake=foundation.lake
        )
        streaming_ingestion(self, streaming=streaming, warehouse=foundation.warehouse)
        self.processor.add_alarms(
            foundation.monitoring.section("Real-time processing"), streaming.cluster_name
        )
        self._outputs()

    def _outputs(self) -> None:
        CfnOutput(
            self,
            "StreamProcessorFunctionName",
            value=self.processor.function.function_name,
            description="Stream processor Lambda (MSK trigger); its logs show each batch summary",
        )
        CfnOutput(
            self,
            "FailedBatchesQueueUrl",
            value=self.processor.failed_batches.queue_url,
            description="SQS queue of stream batches that failed after retries (topic offsets)",
        )
        CfnOutput(
            self,
            "RawStreamJobName",
            value=self.raw_stream.job.ref,
            description="Glue streaming job landing the events topic in the raw zone",
        )
        CfnOutput(
            self,
            "RawStreamEventsUri",
            value=self.raw_stream.events_uri,
            description="Raw events from the topic: Parquet by event_date and event_hour",
        )
        CfnOutput(
            self,
            "RawStreamQuarantineUri",
            value=self.raw_stream.quarantine_uri,
            description="Rejected topic records with reason and detail, by received date/hour",
        )
        CfnOutput(
            self,
            "StreamingViewName",
            value=STREAMING_VIEW,
            description="Redshift materialized view over the events topic (auto refresh)",
        )
