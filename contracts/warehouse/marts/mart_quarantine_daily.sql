-- mart_quarantine_daily: lines the pipeline rejected, per day received x stage x reason.
-- Not partitioned: it is recounted from the whole quarantine every run and replaced whole,
-- so the table exists (empty) before the first line is ever quarantined.
-- DISTSTYLE EVEN: a handful of rows per day, aggregated over date ranges and never joined.
-- SORTKEY (received_date): questions read date ranges.
-- Columns follow the Parquet files.
CREATE TABLE IF NOT EXISTS mart_quarantine_daily (
    received_date  DATE         NOT NULL,
    stage          VARCHAR(32)  NOT NULL,
    reason         VARCHAR(32)  NOT NULL,
    lines          BIGINT       NOT NULL,
    PRIMARY KEY (received_date, stage, reason)
)
DISTSTYLE EVEN
SORTKEY (received_date);
