-- The latest cart abandonment alerts, newest first.
SELECT abandoned_at,
       CAST(cart_id AS VARCHAR(36)) AS cart_id,
       user_id,
       units,
       cart_value
FROM realtime.cart_abandonment_alerts
ORDER BY abandoned_at DESC, cart_id
LIMIT 50
