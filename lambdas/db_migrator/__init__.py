"""Custom resource that applies the OLTP migrations on every deploy."""
