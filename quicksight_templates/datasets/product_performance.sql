-- Every product over the marts' period: revenue, orders, conversion and refunds, with its
-- category's name.
SELECT p.product_id,
       COALESCE(c.category_name, 'uncategorised') AS category_name,
       p.views,
       p.view_sessions,
       p.purchase_sessions,
       p.orders,
       p.units,
       p.revenue,
       p.refunded_orders
FROM mart_product_performance AS p
LEFT JOIN (
    SELECT category_id, MAX(category_name) AS category_name
    FROM mart_sales_daily
    GROUP BY category_id
) AS c ON c.category_id = p.category_id
