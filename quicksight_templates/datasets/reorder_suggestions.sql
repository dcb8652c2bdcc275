-- Products below their reorder point on the latest as-of date, with the units that bring them
-- back to it plus 28 days of demand at the last 28 days' rate.
SELECT i.product_id,
       COALESCE(c.category_name, 'uncategorised') AS category_name,
       i.stockout_risk,
       i.on_hand,
       i.reorder_point,
       i.days_of_cover,
       i.reorder_point + i.demand_28d - i.on_hand AS suggested_order_units
FROM mart_inventory_health AS i
LEFT JOIN mart_product_performance AS p ON p.product_id = i.product_id
LEFT JOIN (
    SELECT category_id, MAX(category_name) AS category_name
    FROM mart_sales_daily
    GROUP BY category_id
) AS c ON c.category_id = p.category_id
WHERE i.as_of = (SELECT MAX(as_of) FROM mart_inventory_health)
  AND i.on_hand < i.reorder_point
