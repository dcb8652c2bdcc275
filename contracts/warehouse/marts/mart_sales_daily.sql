-- mart_sales_daily: one row per order day x category x channel (docs/marts.md).
-- DISTSTYLE EVEN: a small fact (days x categories x channels, ~50k rows a year) that is only
--   aggregated and never joined on a key, so rows are spread for the scan, nothing to co-locate.
-- SORTKEY (order_date): every question reads a date range, and a reload replaces whole days,
--   so zone maps skip the days outside the range and the per-day DELETE touches few blocks.
-- Columns are in the order of the Parquet files (COPY maps by position); the partition
-- column, which lives in the S3 path and not in the files, comes last.
CREATE TABLE IF NOT EXISTS mart_sales_daily (
    category_id     BIGINT,
    category_name   VARCHAR(256),
    channel         VARCHAR(16)   NOT NULL,
    orders          BIGINT        NOT NULL,
    units           BIGINT        NOT NULL,
    revenue         DECIMAL(18,2) NOT NULL,
    refunded_orders BIGINT        NOT NULL,
    refunds         DECIMAL(18,2) NOT NULL,
    aov             DECIMAL(18,2),
    order_date      DATE          NOT NULL,
    PRIMARY KEY (order_date, category_id, channel)
)
DISTSTYLE EVEN
SORTKEY (order_date);
