"""The SageMaker pipeline definitions (training and scoring), built offline with the SageMaker
Python SDK: the only package that imports it. `placeholders` is SDK-free so the CDK stack can
substitute the values only a deployment knows."""

import logging
import os
import warnings

# Built offline, the SDK's notices (v2 deprecation, config file lookups, popped job names) say
# nothing to whoever runs `ecom ml` or the demo: its own switch and its loggers keep them out.
os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
for _name in ("sagemaker", "sagemaker.config"):
    logging.getLogger(_name).setLevel(logging.ERROR)
warnings.filterwarnings("ignore", message="Running within a PipelineSession")
