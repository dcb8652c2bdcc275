-- One row per session day, storefront, device and entry page type: sessions, bounces,
-- engaged and converting sessions (rates are divided at whatever level a visual groups).
SELECT session_date,
       channel,
       device_type,
       entry_page_type,
       sessions,
       bounced_sessions,
       engaged_sessions,
       converted_sessions,
       orders,
       page_views
FROM mart_sessions_daily
