-- One row per session day and storefront: sessions reaching each step, and carts left behind
-- (sessions that added to the cart and did not buy).
SELECT session_date,
       channel,
       sessions,
       product_view_sessions,
       add_to_cart_sessions,
       checkout_sessions,
       purchase_sessions,
       add_to_cart_sessions - purchase_sessions AS abandoned_cart_sessions
FROM mart_funnel_daily
