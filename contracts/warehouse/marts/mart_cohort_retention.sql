-- mart_cohort_retention: acquisition week x weeks since, rebuilt as a whole every run.
-- DISTSTYLE ALL: at most a few thousand rows (weeks squared); a copy on every node means no
--   query ever moves it, and joins with other small tables stay local.
-- SORTKEY (cohort_week, weeks_since): the retention triangle is read cohort by cohort, in
--   week order.
CREATE TABLE IF NOT EXISTS mart_cohort_retention (
    cohort_week      DATE             NOT NULL,
    weeks_since      INTEGER          NOT NULL,
    cohort_size      BIGINT           NOT NULL,
    active_customers BIGINT           NOT NULL,
    retention_rate   DOUBLE PRECISION,
    PRIMARY KEY (cohort_week, weeks_since)
)
DISTSTYLE ALL
SORTKEY (cohort_week, weeks_since);
