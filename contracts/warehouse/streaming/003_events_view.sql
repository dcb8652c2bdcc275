-- The events topic as a streaming materialized view that Redshift refreshes on its own.
--
-- Only records that can be events are taken: JSON (CAN_JSON_PARSE) within the contract's
-- 32768-byte limit. The topic carries contract-valid events only (the collector and the
-- simulator validate before they publish), so the guards exist to keep one stray record from
-- stalling the refresh: a cast runs only when the text has the contract's shape, else the
-- column is NULL. The whole event stays in `payload` (SUPER, from JSON_PARSE) for PartiQL;
-- the envelope's scalars are typed columns for filters, joins and sort order.
CREATE MATERIALIZED VIEW streaming.events
AUTO REFRESH YES
AS
SELECT
    kafka_partition,
    kafka_offset,
    kafka_timestamp,
    refresh_time,
    JSON_EXTRACT_PATH_TEXT(FROM_VARBYTE(kafka_value, 'utf-8'), 'event_id', TRUE)::VARCHAR(36)
        AS event_id,
    JSON_EXTRACT_PATH_TEXT(FROM_VARBYTE(kafka_value, 'utf-8'), 'event_type', TRUE)::VARCHAR(64)
        AS event_type,
    JSON_EXTRACT_PATH_TEXT(FROM_VARBYTE(kafka_value, 'utf-8'), 'schema_version', TRUE)::VARCHAR(16)
        AS schema_version,
    CASE
        WHEN JSON_EXTRACT_PATH_TEXT(FROM_VARBYTE(kafka_value, 'utf-8'), 'occurred_at', TRUE)
            ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]+)?Z$'
        THEN JSON_EXTRACT_PATH_TEXT(FROM_VARBYTE(kafka_value, 'utf-8'), 'occurred_at', TRUE)::TIMESTAMPTZ
    END AS occurred_at,
    CASE
        WHEN JSON_EXTRACT_PATH_TEXT(FROM_VARBYTE(kafka_value, 'utf-8'), 'user_id', TRUE)
            ~ '^[1-9][0-9]{0,17}$'
        THEN JSON_EXTRACT_PATH_TEXT(FROM_VARBYTE(kafka_value, 'utf-8'), 'user_id', TRUE)::BIGINT
    END AS user_id,
    JSON_EXTRACT_PATH_TEXT(FROM_VARBYTE(kafka_value, 'utf-8'), 'anonymous_id', TRUE)::VARCHAR(36)
        AS anonymous_id,
    JSON_EXTRACT_PATH_TEXT(FROM_VARBYTE(kafka_value, 'utf-8'), 'session_id', TRUE)::VARCHAR(36)
        AS session_id,
    JSON_PARSE(kafka_value) AS payload
FROM msk_events."${EventsTopic}"
WHERE OCTET_LENGTH(kafka_value) <= 32768
  AND CAN_JSON_PARSE(kafka_value);
