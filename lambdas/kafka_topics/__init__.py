"""Custom resource that creates and updates the platform's Kafka topics on MSK."""
