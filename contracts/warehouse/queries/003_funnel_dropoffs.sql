-- question: Where do shoppers drop out of the funnel?
-- Sessions reaching each step (a session counts at a step only after every earlier one), and
-- the share lost since the step before.
WITH totals AS (
    SELECT SUM(sessions) AS sessions,
           SUM(product_view_sessions) AS product_view,
           SUM(add_to_cart_sessions) AS add_to_cart,
           SUM(checkout_sessions) AS checkout,
           SUM(purchase_sessions) AS purchase
    FROM mart_funnel_daily
),
steps AS (
    SELECT 1 AS step_order, 'session' AS step, sessions AS reached,
           CAST(NULL AS BIGINT) AS previous FROM totals
    UNION ALL SELECT 2, 'product view', product_view, sessions FROM totals
    UNION ALL SELECT 3, 'add to cart', add_to_cart, product_view FROM totals
    UNION ALL SELECT 4, 'checkout', checkout, add_to_cart FROM totals
    UNION ALL SELECT 5, 'purchase', purchase, checkout FROM totals
)
SELECT step,
       reached,
       ROUND(100.0 * (previous - reached) / NULLIF(previous, 0), 1) AS dropoff_pct
FROM steps
ORDER BY step_order;
