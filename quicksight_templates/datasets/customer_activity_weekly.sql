-- Customers buying in each week, from the cohort grid: a cohort's week 0 are its new
-- customers, its later weeks the returning ones. week_start is the Monday of the week.
SELECT cohort_week + 7 * weeks_since AS week_start,
       SUM(active_customers) AS active_customers,
       SUM(CASE WHEN weeks_since = 0 THEN active_customers ELSE 0 END) AS new_customers,
       SUM(CASE WHEN weeks_since > 0 THEN active_customers ELSE 0 END) AS returning_customers
FROM mart_cohort_retention
GROUP BY cohort_week + 7 * weeks_since
