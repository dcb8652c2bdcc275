"""The SageMaker pipeline definitions (training and scoring), built offline with the SageMaker
Python SDK: the only package that imports it. `placeholders` is SDK-free so the CDK stack can
substitute the values only a deployment knows."""
