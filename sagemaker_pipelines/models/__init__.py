"""Modelling code the pipeline steps run: pure functions over pandas, numpy and scipy.

Everything here runs on the stock SageMaker scikit-learn 1.4-2 image (Python 3.10, no pip
installs at run time), so it imports neither the SageMaker SDK nor anything outside that image.
"""
