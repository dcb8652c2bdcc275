-- The latest day's churn and CLV scores, one row per customer, with the customer's CLV decile
-- among the customers who have ordered (10 = the most valuable tenth; 0 = no order yet: those
-- are all scored as if just acquired, one value for all, which is no rank of their worth),
-- churn probability in tenths (0 to 9) and the churn band numbered in risk order, so charts
-- list low, medium, high.
SELECT user_id,
       churn_probability,
       churn_band,
       CASE churn_band
           WHEN 'low' THEN '1 low'
           WHEN 'medium' THEN '2 medium'
           WHEN 'high' THEN '3 high'
           ELSE churn_band
       END AS churn_risk,
       CAST(FLOOR(LEAST(churn_probability, 0.999) * 10) AS INTEGER) AS churn_bucket,
       p_alive,
       expected_orders_365d,
       clv_365d,
       CASE WHEN new_customer THEN 0
            ELSE NTILE(10) OVER (PARTITION BY new_customer ORDER BY clv_365d, user_id)
       END AS clv_decile,
       action_segment,
       new_customer
FROM customer_scores
WHERE as_of = (SELECT MAX(as_of) FROM customer_scores)
