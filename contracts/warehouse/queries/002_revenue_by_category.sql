-- question: How are sales doing?
-- Which categories bring the revenue, and through which storefront.
SELECT category_name,
       SUM(revenue) AS revenue,
       SUM(CASE WHEN channel = 'web' THEN revenue ELSE 0 END) AS web_revenue,
       SUM(CASE WHEN channel = 'mobile_app' THEN revenue ELSE 0 END) AS app_revenue,
       ROUND(100.0 * SUM(refunds) / NULLIF(SUM(revenue), 0), 1) AS refund_pct
FROM mart_sales_daily
GROUP BY category_name
ORDER BY revenue DESC, category_name
LIMIT 15;
