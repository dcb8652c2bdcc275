-- Every product's stock position on the latest as-of date, with its category, a band of its
-- days of cover and its revenue over the marts' period.
SELECT i.product_id,
       COALESCE(c.category_name, 'uncategorised') AS category_name,
       i.stockout_risk,
       i.on_hand,
       i.lead_time_days,
       i.avg_daily_demand,
       i.days_of_cover,
       CASE
           WHEN i.days_of_cover IS NULL THEN 'no recent demand'
           WHEN i.days_of_cover < 7 THEN '00-06 days'
           WHEN i.days_of_cover < 14 THEN '07-13 days'
           WHEN i.days_of_cover < 28 THEN '14-27 days'
           WHEN i.days_of_cover < 56 THEN '28-55 days'
           ELSE '56+ days'
       END AS cover_band,
       i.reorder_point,
       COALESCE(p.revenue, 0) AS revenue
FROM mart_inventory_health AS i
LEFT JOIN mart_product_performance AS p ON p.product_id = i.product_id
LEFT JOIN mart_products AS c ON c.product_id = i.product_id
WHERE i.as_of = (SELECT MAX(as_of) FROM mart_inventory_health)
