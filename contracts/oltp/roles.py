"""Database roles that migrations create and the deployment names: the migration
(contracts/oltp/migrations) and the stacks that grant or use a role spell it from here."""

# Read-only login of the recommendations API (V007__recommendations.sql): member of
# reco_reader, signs in on RDS with an IAM token (rds_iam), no password anywhere.
RECOMMENDATIONS_API_USER = "reco_api"
