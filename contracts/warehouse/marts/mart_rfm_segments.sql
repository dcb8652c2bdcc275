-- mart_rfm_segments: one row per customer and as-of date, with R, F, M scores and a segment.
-- DISTKEY (user_id): the largest marts are per customer (this one and customer_features, and
--   the churn and CLV scores later); the same key puts a customer's rows on one slice, so
--   joins between them need no redistribution. Customers are many, so slices stay even.
-- SORTKEY (as_of, segment): questions take the latest as-of date and group by segment; a
--   reload replaces one as-of date.
-- Columns follow the Parquet files; the partition column comes last.
CREATE TABLE IF NOT EXISTS mart_rfm_segments (
    user_id       BIGINT        NOT NULL,
    last_order_at TIMESTAMP     NOT NULL,
    recency_days  INTEGER       NOT NULL,
    frequency     BIGINT        NOT NULL,
    monetary      DECIMAL(18,2) NOT NULL,
    r_score       INTEGER       NOT NULL,
    f_score       INTEGER       NOT NULL,
    m_score       INTEGER       NOT NULL,
    segment       VARCHAR(32)   NOT NULL,
    as_of         DATE          NOT NULL,
    PRIMARY KEY (user_id, as_of)
)
DISTKEY (user_id)
SORTKEY (as_of, segment);
