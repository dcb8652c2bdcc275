-- Per product since the stream started: views, cart adds, units sold and revenue, with the
-- catalog's name when the OLTP database knows the product already.
SELECT c.product_id,
       COALESCE(p.name, CONCAT('product ', CAST(c.product_id AS VARCHAR(20)))) AS product_name,
       c.views,
       c.cart_adds,
       c.units_sold,
       c.revenue
FROM realtime.product_counters AS c
LEFT JOIN products AS p ON p.id = c.product_id
