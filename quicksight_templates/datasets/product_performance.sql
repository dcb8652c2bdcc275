-- Every product over the marts' period: revenue, orders, conversion and refunds, with its
-- name and its category's name from the catalog.
SELECT p.product_id,
       COALESCE(c.product_name, 'product ' || CAST(p.product_id AS TEXT)) AS product_name,
       COALESCE(c.category_name, 'uncategorised') AS category_name,
       p.views,
       p.view_sessions,
       p.purchase_sessions,
       p.orders,
       p.units,
       p.revenue,
       p.refunded_orders
FROM mart_product_performance AS p
LEFT JOIN mart_products AS c ON c.product_id = p.product_id
