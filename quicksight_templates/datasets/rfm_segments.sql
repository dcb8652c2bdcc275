-- Every customer's RFM scores and segment on the latest as-of date.
SELECT user_id,
       segment,
       recency_days,
       frequency,
       monetary,
       r_score,
       f_score,
       m_score
FROM mart_rfm_segments
WHERE as_of = (SELECT MAX(as_of) FROM mart_rfm_segments)
