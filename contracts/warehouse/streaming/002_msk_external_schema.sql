-- The MSK cluster as an external schema: each topic reads as a relation of it. Redshift
-- connects with IAM (port 9098 over TLS) as the warehouse's streaming-ingestion role, which
-- may read the events topic and nothing else.
CREATE EXTERNAL SCHEMA IF NOT EXISTS msk_events
FROM MSK
IAM_ROLE '${StreamingRoleArn}'
AUTHENTICATION iam
CLUSTER_ARN '${ClusterArn}';
