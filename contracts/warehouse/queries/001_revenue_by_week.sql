-- question: How are sales doing?
-- Revenue, refunds and units per week, with the change against the week before. Revenue is
-- what customers paid (after discounts, with shipping and tax); cancelled orders are excluded.
WITH weekly AS (
    SELECT CAST(DATE_TRUNC('week', order_date) AS DATE) AS week_start,
           SUM(revenue) AS revenue,
           SUM(refunds) AS refunds,
           SUM(units) AS units
    FROM mart_sales_daily
    GROUP BY 1
)
SELECT week_start,
       revenue,
       refunds,
       revenue - refunds AS net_revenue,
       units,
       ROUND(100.0 * (revenue - LAG(revenue) OVER (ORDER BY week_start))
             / NULLIF(LAG(revenue) OVER (ORDER BY week_start), 0), 1) AS revenue_change_pct
FROM weekly
ORDER BY week_start;
