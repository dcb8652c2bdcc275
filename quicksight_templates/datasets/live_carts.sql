-- Every cart not converted yet, with what it holds.
SELECT CAST(cart_id AS VARCHAR(36)) AS cart_id,
       status,
       units,
       cart_value,
       last_activity_at
FROM realtime.open_carts
