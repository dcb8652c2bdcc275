-- question: Which cohorts stay?
-- Per acquisition week (the week of a customer's first order), the share still buying one to
-- four weeks later.
SELECT cohort_week,
       MAX(cohort_size) AS customers,
       ROUND(100 * MAX(CASE WHEN weeks_since = 1 THEN retention_rate END), 1) AS week_1_pct,
       ROUND(100 * MAX(CASE WHEN weeks_since = 2 THEN retention_rate END), 1) AS week_2_pct,
       ROUND(100 * MAX(CASE WHEN weeks_since = 3 THEN retention_rate END), 1) AS week_3_pct,
       ROUND(100 * MAX(CASE WHEN weeks_since = 4 THEN retention_rate END), 1) AS week_4_pct
FROM mart_cohort_retention
GROUP BY cohort_week
ORDER BY cohort_week;
