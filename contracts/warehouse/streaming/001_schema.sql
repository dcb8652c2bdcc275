-- The local schema that holds the streaming materialized views.
CREATE SCHEMA IF NOT EXISTS streaming;
