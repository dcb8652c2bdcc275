"""The pipelines' step scripts, thin over sagemaker_pipelines.models.

SageMaker runs each as a file (`python sagemaker_pipelines/steps/<name>.py`) from a source
directory whose root holds the package, so each puts that root on sys.path itself.
"""

import os
from pathlib import Path

STEPS_DIR = Path(__file__).resolve().parent
REFUSED = 2
"""Exit code of a step that refuses its input (too little history, missing data)."""

PROCESSING_ROOT_VARIABLE = "PROCESSING_ROOT"
PROCESSING = Path(os.environ.get(PROCESSING_ROOT_VARIABLE, "/opt/ml/processing"))
"""Where a processing job's container holds its inputs and outputs: /opt/ml/processing in
SageMaker; locally, the pipeline interpreter's folder for the step (set in the variable)."""
LOCAL_REGISTRY_VARIABLE = "LOCAL_MODEL_REGISTRY"
"""Set by the local pipeline interpreter: the folder of the LocalRegistry the score step reads
the approved models from instead of the SageMaker Model Registry."""
