-- question: What will run out of stock?
-- Products at risk on the latest as-of date, most urgent first: already out, then those that
-- run out within one supplier lead time, then those below their reorder point.
SELECT i.product_id,
       COALESCE(n.product_name, 'product ' || CAST(i.product_id AS TEXT)) AS product_name,
       i.stockout_risk AS risk,
       i.on_hand,
       ROUND(i.avg_daily_demand, 2) AS daily_demand,
       ROUND(i.days_of_cover, 1) AS cover_days,
       i.lead_time_days AS lead_days,
       i.reorder_point,
       p.revenue
FROM mart_inventory_health AS i
LEFT JOIN mart_product_performance AS p ON p.product_id = i.product_id
LEFT JOIN mart_products AS n ON n.product_id = i.product_id
WHERE i.as_of = (SELECT MAX(as_of) FROM mart_inventory_health)
  AND i.stockout_risk IN ('out_of_stock', 'high', 'medium')
ORDER BY CASE i.stockout_risk WHEN 'out_of_stock' THEN 0 WHEN 'high' THEN 1 ELSE 2 END,
         i.days_of_cover ASC NULLS FIRST,
         i.avg_daily_demand DESC NULLS LAST,
         i.product_id
LIMIT 20;
