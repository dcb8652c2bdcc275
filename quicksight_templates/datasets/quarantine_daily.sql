-- One row per day received, stage and reason: the lines that stage quarantined.
SELECT received_date,
       stage,
       reason,
       lines
FROM mart_quarantine_daily
