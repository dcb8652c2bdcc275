-- Live tables kept by the stream processor (lambdas/stream_processor) from ecommerce.events.v1.
-- Every counter changes in the same transaction that records the batch's event ids in
-- realtime.processed_events, and only for ids that were not there yet: a redelivered batch
-- adds nothing. Counters are sums, so batches may arrive in any order and give the same state.
-- Product, cart and session ids are not foreign keys: live events may name rows the OLTP
-- database has not received yet.

CREATE SCHEMA realtime;

-- One row per event counted; the dedupe key. Source coordinates say where it was read.
CREATE TABLE realtime.processed_events (
    event_id         uuid        PRIMARY KEY,
    event_type       text        NOT NULL,
    occurred_at      timestamptz NOT NULL,
    source_topic     text        NOT NULL,
    source_partition integer     NOT NULL,
    source_offset    bigint      NOT NULL,
    processed_at     timestamptz NOT NULL DEFAULT now()
);

-- Site activity per minute of event time (UTC).
CREATE TABLE realtime.minute_metrics (
    minute          timestamptz   PRIMARY KEY,
    events          bigint        NOT NULL CHECK (events >= 0),
    active_sessions integer       NOT NULL CHECK (active_sessions >= 0),
    product_views   integer       NOT NULL CHECK (product_views >= 0),
    add_to_carts    integer       NOT NULL CHECK (add_to_carts >= 0),
    checkouts       integer       NOT NULL CHECK (checkouts >= 0),
    orders          integer       NOT NULL CHECK (orders >= 0),
    revenue         numeric(14,2) NOT NULL CHECK (revenue >= 0),
    created_at      timestamptz   NOT NULL DEFAULT now(),
    updated_at      timestamptz   NOT NULL DEFAULT now(),
    CONSTRAINT minute_metrics_whole_minute CHECK (date_trunc('minute', minute) = minute)
);

-- The sessions seen in each minute: a distinct count cannot be summed across batches, so
-- active_sessions grows by the rows each batch adds here.
CREATE TABLE realtime.minute_sessions (
    minute     timestamptz NOT NULL,
    session_id uuid        NOT NULL,
    PRIMARY KEY (minute, session_id)
);

-- Live per-product counters since the stream started.
CREATE TABLE realtime.product_counters (
    product_id    bigint        PRIMARY KEY,
    views         bigint        NOT NULL CHECK (views >= 0),
    cart_adds     bigint        NOT NULL CHECK (cart_adds >= 0),
    units_added   bigint        NOT NULL CHECK (units_added >= 0),
    units_removed bigint        NOT NULL CHECK (units_removed >= 0),
    units_sold    bigint        NOT NULL CHECK (units_sold >= 0),
    revenue       numeric(14,2) NOT NULL CHECK (revenue >= 0),
    last_event_at timestamptz   NOT NULL,
    created_at    timestamptz   NOT NULL DEFAULT now(),
    updated_at    timestamptz   NOT NULL DEFAULT now()
);

-- Every cart seen on the stream and where it stands. abandoned_at is the moment the cart had
-- gone cart_abandonment_minutes without activity and without a checkout (in event time, see
-- partition_watermarks); later activity clears it, and a later idle spell raises a new alert.
CREATE TABLE realtime.carts (
    cart_id             uuid        PRIMARY KEY,
    user_id             bigint,
    session_id          uuid        NOT NULL,
    opened_at           timestamptz NOT NULL,
    last_activity_at    timestamptz NOT NULL,
    checkout_started_at timestamptz,
    ordered_at          timestamptz,
    order_id            bigint,
    abandoned_at        timestamptz,
    status              text GENERATED ALWAYS AS (
                            CASE
                                WHEN ordered_at IS NOT NULL THEN 'converted'
                                WHEN checkout_started_at IS NOT NULL THEN 'checking_out'
                                WHEN abandoned_at IS NOT NULL THEN 'abandoned'
                                ELSE 'open'
                            END) STORED,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT carts_activity_after_open CHECK (last_activity_at >= opened_at)
);

-- Carts the abandonment check still has to watch.
CREATE INDEX carts_awaiting_checkout_idx ON realtime.carts (last_activity_at)
    WHERE checkout_started_at IS NULL AND ordered_at IS NULL AND abandoned_at IS NULL;

-- Net units per cart line (adds minus removes, so the order of batches does not matter; a
-- remove read before its add makes it negative for a while). unit_price is the latest
-- price an add carried; NULL when only removes were seen.
CREATE TABLE realtime.cart_lines (
    cart_id    uuid          NOT NULL REFERENCES realtime.carts (cart_id),
    product_id bigint        NOT NULL,
    quantity   integer       NOT NULL,
    unit_price numeric(12,2) CHECK (unit_price >= 0),
    created_at timestamptz   NOT NULL DEFAULT now(),
    updated_at timestamptz   NOT NULL DEFAULT now(),
    PRIMARY KEY (cart_id, product_id)
);

-- One alert per idle spell of a cart (a cart can be abandoned, revived and abandoned again).
CREATE TABLE realtime.cart_abandonment_alerts (
    cart_id          uuid          NOT NULL REFERENCES realtime.carts (cart_id),
    last_activity_at timestamptz   NOT NULL,
    abandoned_at     timestamptz   NOT NULL,
    detected_at      timestamptz   NOT NULL,
    user_id          bigint,
    session_id       uuid          NOT NULL,
    units            integer       NOT NULL CHECK (units >= 0),
    cart_value       numeric(14,2) NOT NULL CHECK (cart_value >= 0),
    created_at       timestamptz   NOT NULL DEFAULT now(),
    PRIMARY KEY (cart_id, last_activity_at),
    CONSTRAINT cart_abandonment_alerts_after_idle CHECK (abandoned_at > last_activity_at)
);

-- Latest event time read from each partition. Their maximum is the stream's "now" for the
-- abandonment check: a redelivered old batch cannot move it back, and partitions processed
-- in parallel each update only their own row.
CREATE TABLE realtime.partition_watermarks (
    source_topic     text        NOT NULL,
    source_partition integer     NOT NULL,
    max_occurred_at  timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source_topic, source_partition)
);

-- Records that could not be counted, with the reasons and the bytes as read. One row per
-- source record, so a redelivered poison record is stored once.
CREATE TABLE realtime.dead_letters (
    source_topic     text        NOT NULL,
    source_partition integer     NOT NULL,
    source_offset    bigint      NOT NULL,
    event_id         text,
    event_type       text,
    reasons          text[]      NOT NULL CHECK (cardinality(reasons) > 0),
    payload          bytea,
    received_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source_topic, source_partition, source_offset)
);

-- Carts not converted yet, with their live content (negative net lines count as empty).
CREATE VIEW realtime.open_carts AS
SELECT c.cart_id,
       c.user_id,
       c.session_id,
       c.status,
       c.opened_at,
       c.last_activity_at,
       COALESCE(sum(GREATEST(l.quantity, 0)), 0)::integer                    AS units,
       COALESCE(sum(GREATEST(l.quantity, 0) * l.unit_price), 0)::numeric(14,2) AS cart_value
FROM realtime.carts c
LEFT JOIN realtime.cart_lines l ON l.cart_id = c.cart_id
WHERE c.ordered_at IS NULL
GROUP BY c.cart_id;
