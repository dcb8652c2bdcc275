-- question: Where do shoppers drop out of the funnel?
-- The same funnel per storefront, as conversion from session to purchase.
SELECT channel,
       SUM(sessions) AS sessions,
       SUM(purchase_sessions) AS purchase_sessions,
       ROUND(100.0 * SUM(add_to_cart_sessions) / NULLIF(SUM(sessions), 0), 2) AS add_to_cart_pct,
       ROUND(100.0 * SUM(purchase_sessions) / NULLIF(SUM(sessions), 0), 2) AS conversion_pct
FROM mart_funnel_daily
GROUP BY channel
ORDER BY channel;
