-- mart_quarantine_daily: lines the pipeline rejected, per day received x stage x reason.
-- DISTSTYLE EVEN: a handful of rows per day, aggregated over date ranges and never joined.
-- SORTKEY (received_date): questions read date ranges; reloads replace whole days.
-- Columns follow the Parquet files; the partition column comes last.
CREATE TABLE IF NOT EXISTS mart_quarantine_daily (
    stage          VARCHAR(32)  NOT NULL,
    reason         VARCHAR(32)  NOT NULL,
    lines          BIGINT       NOT NULL,
    received_date  DATE         NOT NULL,
    PRIMARY KEY (received_date, stage, reason)
)
DISTSTYLE EVEN
SORTKEY (received_date);
