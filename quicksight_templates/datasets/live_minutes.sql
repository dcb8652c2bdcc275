-- The last 24 hours of event time that the stream processor has counted, minute by minute.
SELECT minute,
       events,
       active_sessions,
       product_views,
       add_to_carts,
       checkouts,
       orders,
       revenue
FROM realtime.minute_metrics
WHERE minute > (SELECT MAX(minute) FROM realtime.minute_metrics) - INTERVAL '24 hours'
