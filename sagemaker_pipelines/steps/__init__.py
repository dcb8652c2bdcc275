"""The pipelines' step scripts, thin over sagemaker_pipelines.models.

SageMaker runs each as a file (`python sagemaker_pipelines/steps/<name>.py`) from a source
directory whose root holds the package, so each puts that root on sys.path itself.
"""

from pathlib import Path

STEPS_DIR = Path(__file__).resolve().parent
REFUSED = 2
"""Exit code of a step that refuses its input (too little history, missing data)."""
