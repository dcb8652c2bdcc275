-- mart_funnel_daily: sessions reaching each funnel step, per session day x channel.
-- DISTSTYLE EVEN: a few rows per day, aggregated over date ranges and never joined.
-- SORTKEY (session_date): questions read date ranges; reloads replace whole days.
-- Columns follow the Parquet files; the partition column comes last.
CREATE TABLE IF NOT EXISTS mart_funnel_daily (
    channel                 VARCHAR(16)      NOT NULL,
    sessions                BIGINT           NOT NULL,
    product_view_sessions   BIGINT           NOT NULL,
    add_to_cart_sessions    BIGINT           NOT NULL,
    checkout_sessions       BIGINT           NOT NULL,
    purchase_sessions       BIGINT           NOT NULL,
    orders                  BIGINT,
    dropoff_to_product_view DOUBLE PRECISION,
    dropoff_to_add_to_cart  DOUBLE PRECISION,
    dropoff_to_checkout     DOUBLE PRECISION,
    dropoff_to_purchase     DOUBLE PRECISION,
    session_date            DATE             NOT NULL,
    PRIMARY KEY (session_date, channel)
)
DISTSTYLE EVEN
SORTKEY (session_date);
