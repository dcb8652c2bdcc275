"""The pipelines' step scripts, thin over sagemaker_pipelines.models.

SageMaker runs each as a file (`python sagemaker_pipelines/steps/<name>.py`) from a source
directory whose root holds the package, so each puts that root on sys.path itself.
"""
