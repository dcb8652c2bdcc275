"""Collector: the HTTP API clients send events to; valid ones go to Kafka, the rest to the DLQ."""
