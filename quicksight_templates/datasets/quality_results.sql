-- Every quality rule checked by every gated job run, with its outcome.
SELECT job,
       run_id,
       table_name,
       rule,
       check_type,
       severity,
       observed,
       CAST(evaluated_at AS DATE) AS run_date,
       evaluated_at,
       CASE
           WHEN passed THEN 'passed'
           WHEN severity = 'critical' THEN 'failed (critical)'
           ELSE 'failed (warning)'
       END AS outcome,
       CASE WHEN passed THEN 0 ELSE 1 END AS failed_rules
FROM dq_results
