-- The cohort grid of the last 16 acquisition weeks, up to 12 weeks after the first order:
-- per cohort and weeks since, the cohort's customers buying again.
SELECT cohort_week,
       weeks_since,
       cohort_size,
       active_customers
FROM mart_cohort_retention
WHERE weeks_since <= 12
  AND cohort_week > (SELECT MAX(cohort_week) FROM mart_cohort_retention) - 7 * 16
