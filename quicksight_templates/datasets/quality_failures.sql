-- The rules that failed, one row per job run, table and rule, with what was observed.
SELECT CAST(evaluated_at AS DATE) AS run_date,
       job,
       run_id,
       table_name,
       rule,
       severity,
       observed
FROM dq_results
WHERE NOT passed
