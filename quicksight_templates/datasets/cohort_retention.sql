-- The cohort grid: per acquisition week and weeks since, the customers buying again.
SELECT cohort_week,
       weeks_since,
       cohort_size,
       active_customers
FROM mart_cohort_retention
