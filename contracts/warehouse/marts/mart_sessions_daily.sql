-- mart_sessions_daily: sessions, bounces and conversion per session day x channel x device x
-- entry page type.
-- DISTSTYLE EVEN: tens of rows per day, aggregated over date ranges and never joined.
-- SORTKEY (session_date): questions read date ranges; reloads replace whole days.
-- Columns follow the Parquet files; the partition column comes last.
CREATE TABLE IF NOT EXISTS mart_sessions_daily (
    channel            VARCHAR(16)      NOT NULL,
    device_type        VARCHAR(16)      NOT NULL,
    entry_page_type    VARCHAR(16)      NOT NULL,
    sessions           BIGINT           NOT NULL,
    bounced_sessions   BIGINT           NOT NULL,
    engaged_sessions   BIGINT           NOT NULL,
    converted_sessions BIGINT           NOT NULL,
    orders             BIGINT           NOT NULL,
    page_views         BIGINT           NOT NULL,
    bounce_rate        DOUBLE PRECISION,
    conversion_rate    DOUBLE PRECISION,
    session_date       DATE             NOT NULL,
    PRIMARY KEY (session_date, channel, device_type, entry_page_type)
)
DISTSTYLE EVEN
SORTKEY (session_date);
