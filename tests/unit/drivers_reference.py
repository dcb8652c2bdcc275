"""The churn drivers as first written, one prediction per feature: the reference the faster
ChurnModel.top_drivers must equal exactly (tests/unit/test_churn.py) and the baseline
benchmarks/bench_ml.py times it against."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sagemaker_pipelines.models.churn import ChurnModel


def per_feature_drivers(model: ChurnModel, features: pd.DataFrame, k: int) -> pd.DataFrame:
    """Each customer's k largest effects, predicting every feature's perturbed rows apart."""
    matrix = model._matrix(features)
    probability = model.classifier.predict_proba(matrix)[:, 1]
    effects = np.zeros(matrix.shape)
    for j, name in enumerate(model.feature_names):
        moved = matrix[:, j] != model.medians[name]
        at_median = matrix[moved]
        at_median[:, j] = model.medians[name]
        if moved.any():
            effects[moved, j] = probability[moved] - model.classifier.predict_proba(at_median)[:, 1]
    order = np.argsort(-np.abs(effects), axis=1, kind="stable")[:, :k]
    names = np.asarray(model.feature_names, dtype=object)
    columns = {}
    for rank in range(k):
        columns[f"driver_{rank + 1}"] = names[order[:, rank]]
        columns[f"effect_{rank + 1}"] = np.take_along_axis(effects, order[:, rank : rank + 1], 1)[
            :, 0
        ]
    return pd.DataFrame(columns, index=features.index)
