-- customer_scores: the ML scoring pipeline's output, one row per customer and scoring day
-- (the lake's curated zone customer_scores/as_of=YYYY-MM-DD/).
-- DISTKEY (user_id): co-located with customer_features and mart_rfm_segments by customer.
-- SORTKEY (as_of): dashboards read the latest day; a reload replaces one day.
-- Columns follow the Parquet files; the partition column comes last.
CREATE TABLE IF NOT EXISTS customer_scores (
    user_id               BIGINT           NOT NULL,
    churn_probability     DOUBLE PRECISION NOT NULL,
    churn_band            VARCHAR(16)      NOT NULL,
    p_alive               DOUBLE PRECISION NOT NULL,
    expected_orders_90d   DOUBLE PRECISION NOT NULL,
    expected_orders_365d  DOUBLE PRECISION NOT NULL,
    expected_revenue_365d DOUBLE PRECISION NOT NULL,
    clv_365d              DOUBLE PRECISION NOT NULL,
    action_segment        VARCHAR(64)      NOT NULL,
    top_drivers           VARCHAR(1024)    NOT NULL,
    new_customer          BOOLEAN          NOT NULL,
    churn_model_version   VARCHAR(256)     NOT NULL,
    clv_model_version     VARCHAR(256)     NOT NULL,
    scored_at             TIMESTAMP        NOT NULL,
    as_of                 DATE             NOT NULL,
    PRIMARY KEY (user_id, as_of)
)
DISTKEY (user_id)
SORTKEY (as_of);
