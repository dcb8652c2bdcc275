-- The latest day's churn and CLV scores, one row per customer, with the customer's CLV decile
-- (10 = the most valuable tenth) and churn probability band of ten points (0.0 to 0.9).
SELECT user_id,
       churn_probability,
       churn_band,
       CAST(FLOOR(LEAST(churn_probability, 0.999) * 10) AS INTEGER) AS churn_bucket,
       p_alive,
       expected_orders_365d,
       clv_365d,
       NTILE(10) OVER (ORDER BY clv_365d, user_id) AS clv_decile,
       action_segment,
       new_customer
FROM customer_scores
WHERE as_of = (SELECT MAX(as_of) FROM customer_scores)
