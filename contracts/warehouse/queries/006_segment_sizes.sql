-- question: Who are our champions, and who is at risk?
-- Segment sizes on the latest as-of date, with what a customer in each is worth.
SELECT segment,
       COUNT(*) AS customers,
       ROUND(100.0 * COUNT(*) / SUM(COUNT(*)) OVER (), 1) AS share_pct,
       ROUND(AVG(monetary), 2) AS avg_monetary,
       ROUND(AVG(recency_days), 1) AS avg_recency_days
FROM mart_rfm_segments
WHERE as_of = (SELECT MAX(as_of) FROM mart_rfm_segments)
GROUP BY segment
ORDER BY customers DESC, segment;
