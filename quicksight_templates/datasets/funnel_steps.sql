-- The funnel in long form, one row per session day, storefront and step, so a funnel chart
-- sums the sessions of each step; step_order keeps the steps in funnel order.
SELECT session_date, channel, 1 AS step_order, '1 session' AS step, sessions
FROM mart_funnel_daily
UNION ALL
SELECT session_date, channel, 2, '2 product view', product_view_sessions
FROM mart_funnel_daily
UNION ALL
SELECT session_date, channel, 3, '3 add to cart', add_to_cart_sessions
FROM mart_funnel_daily
UNION ALL
SELECT session_date, channel, 4, '4 checkout', checkout_sessions
FROM mart_funnel_daily
UNION ALL
SELECT session_date, channel, 5, '5 purchase', purchase_sessions
FROM mart_funnel_daily
