"""Where the event contract travels: the Kafka topics and the consumer groups that read them.

The names are fixed (not per environment) so IAM policies, lag alarms and the local tools can
name them; cdk.json sizes each topic (partitions, retention) and must list these two.
"""

from __future__ import annotations

# Accepted events, and rejected ones with their reasons and the payload as received.
EVENTS_TOPIC = "ecommerce.events.v1"
DEAD_LETTER_TOPIC = "ecommerce.events.dlq"
# The stream processor's consumer group (the Lambda's event source mapping, `ecom stream run`).
PROCESSOR_CONSUMER_GROUP = "ecommerce-stream-processor"
# The Glue streaming job's consumer groups: Spark names each query's group with this prefix.
RAW_STREAM_GROUP_PREFIX = "ecommerce-raw-stream"
