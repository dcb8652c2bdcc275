-- One row per order day, category and storefront: the sales dashboards filter and sum it.
SELECT order_date,
       COALESCE(category_name, 'uncategorised') AS category_name,
       channel,
       orders,
       units,
       revenue,
       refunded_orders,
       refunds,
       revenue - refunds AS net_revenue
FROM mart_sales_daily
