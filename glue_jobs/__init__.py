"""Glue Spark job entry scripts; their logic lives in glue_jobs/transforms as pure functions."""
