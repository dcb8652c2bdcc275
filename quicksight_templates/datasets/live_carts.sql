-- Carts not converted yet, per status, with what they hold (one row per status, however many
-- carts the stream has seen).
SELECT status,
       COUNT(*) AS carts,
       SUM(units) AS units,
       SUM(cart_value) AS cart_value
FROM realtime.open_carts
GROUP BY status
