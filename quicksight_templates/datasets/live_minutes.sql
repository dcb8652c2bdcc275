-- The last 24 hours of event time that the stream processor has counted, minute by minute,
-- plus a zero row at the start of each hour of the window in which nothing was counted: the
-- per-hour charts then show a quiet hour as zero instead of drawing a line across it.
WITH latest AS (
    SELECT MAX(minute) AS at FROM realtime.minute_metrics
),
counted AS (
    SELECT m.minute,
           m.events,
           m.active_sessions,
           m.product_views,
           m.add_to_carts,
           m.checkouts,
           m.orders,
           m.revenue
    FROM realtime.minute_metrics AS m, latest
    WHERE m.minute > latest.at - INTERVAL '24 hours'
)
SELECT * FROM counted
UNION ALL
SELECT hour, 0, 0, 0, 0, 0, 0, 0
FROM latest,
     generate_series(date_trunc('hour', latest.at - INTERVAL '23 hours'),
                     date_trunc('hour', latest.at), INTERVAL '1 hour') AS hour
WHERE NOT EXISTS (SELECT 1 FROM counted AS c WHERE date_trunc('hour', c.minute) = hour)
