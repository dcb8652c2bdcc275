"""Stream processor: MSK batches of ecommerce.events.v1 -> real-time tables in PostgreSQL."""
