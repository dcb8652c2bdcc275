-- customer_features: one row per customer as of a cutoff, the churn and CLV models' input.
-- DISTKEY (user_id): co-located with mart_rfm_segments (and the model scores) by customer,
--   so joins between them need no redistribution; customers are many, so slices stay even.
-- SORTKEY (cutoff_date): training and scoring read one cutoff; a reload replaces one cutoff.
-- Columns follow the Parquet files; the partition column comes last.
CREATE TABLE IF NOT EXISTS customer_features (
    user_id               BIGINT           NOT NULL,
    cutoff                TIMESTAMP        NOT NULL,
    tenure_days           INTEGER          NOT NULL,
    recency_days          INTEGER,
    frequency             BIGINT           NOT NULL,
    monetary              DECIMAL(18,2)    NOT NULL,
    avg_order_value       DECIMAL(18,2),
    sessions_last_28d     BIGINT           NOT NULL,
    sessions_prev_28d     BIGINT           NOT NULL,
    visit_trend           BIGINT           NOT NULL,
    carts_started         BIGINT           NOT NULL,
    carts_converted       BIGINT           NOT NULL,
    cart_abandonment_rate DOUBLE PRECISION,
    tickets               BIGINT           NOT NULL,
    refunds               BIGINT           NOT NULL,
    refund_amount         DECIMAL(18,2)    NOT NULL,
    cutoff_date           DATE             NOT NULL,
    PRIMARY KEY (user_id, cutoff_date)
)
DISTKEY (user_id)
SORTKEY (cutoff_date);
