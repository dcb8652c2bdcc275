-- Products below their reorder point on the latest as-of date, with their catalog names and the
-- units that bring them back to it plus 28 days of demand at the last 28 days' rate.
SELECT i.product_id,
       COALESCE(c.product_name, 'product ' || CAST(i.product_id AS TEXT)) AS product_name,
       COALESCE(c.category_name, 'uncategorised') AS category_name,
       i.stockout_risk,
       i.on_hand,
       i.reorder_point,
       i.days_of_cover,
       i.reorder_point + i.demand_28d - i.on_hand AS suggested_order_units
FROM mart_inventory_health AS i
LEFT JOIN mart_products AS c ON c.product_id = i.product_id
WHERE i.as_of = (SELECT MAX(as_of) FROM mart_inventory_health)
  AND i.on_hand < i.reorder_point
