-- question: Who are our champions, and who is at risk?
-- The valuable customers slipping away, with the signals behind it: fewer visits than the
-- month before, support tickets, refunds.
SELECT r.user_id,
       r.segment,
       r.recency_days,
       r.frequency,
       r.monetary,
       f.visit_trend,
       f.tickets,
       f.refunds
FROM mart_rfm_segments AS r
LEFT JOIN customer_features AS f
       ON f.user_id = r.user_id AND f.cutoff_date = r.as_of
WHERE r.as_of = (SELECT MAX(as_of) FROM mart_rfm_segments)
  AND r.segment IN ('cannot_lose', 'at_risk')
ORDER BY r.monetary DESC NULLS LAST, r.user_id
LIMIT 20;
