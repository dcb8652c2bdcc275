"""SageMaker pipeline definitions (churn, CLV) and the step scripts they run."""
