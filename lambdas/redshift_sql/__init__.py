"""redshift_sql: applies contracts/warehouse scripts to Redshift on deploy (custom resource)."""
