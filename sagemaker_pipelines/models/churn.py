"""The churn classifier: calibrated gradient boosting over the features at a cutoff.

scikit-learn's HistGradientBoostingClassifier, because the stock SageMaker scikit-learn image
has it (XGBoost and LightGBM would need installs the VPC cannot make), it handles skewed,
unscaled counts without preprocessing, and on a few thousand to a million customers it
trains in seconds. Its scores are calibrated by CalibratedClassifierCV so that a probability
of 0.7 means seven in ten such customers churn; the bands and the Brier score rely on it.

Only APIs present in scikit-learn 1.4 are used (the image's version).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.inspection import permutation_importance

from sagemaker_pipelines.models.btyd import FloatArray, InsufficientDataError
from sagemaker_pipelines.models.segments import bands

MIN_PER_CLASS = 20
"""Fewer churners (or fewer stayers) than this leave nothing to learn or to calibrate on."""

CHURN_MEDIUM_FROM = 0.5
CHURN_HIGH_FROM = 0.8
"""Default risk bands: low below 0.5, medium from 0.5, high from 0.8."""

TOP_DRIVERS = 3


@dataclass(frozen=True)
class ChurnModel:
    """A fitted classifier with the feature order it expects and the training medians the
    per-customer drivers compare against."""

    classifier: CalibratedClassifierCV
    feature_names: tuple[str, ...]
    medians: pd.Series

    def _matrix(self, features: pd.DataFrame) -> FloatArray:
        missing = [name for name in self.feature_names if name not in features.columns]
        if missing:
            raise ValueError(f"the features lack column(s) the model was trained on: {missing}")
        return features[list(self.feature_names)].to_numpy(np.float64)

    def predict_proba(self, features: pd.DataFrame) -> FloatArray:
        """P(churn) for each row of features (columns by name; extra columns are ignored)."""
        return self.classifier.predict_proba(self._matrix(features))[:, 1]

    def top_drivers(self, features: pd.DataFrame, k: int = TOP_DRIVERS) -> pd.DataFrame:
        """Each customer's k features that move their churn probability most.

        A feature's effect is the customer's probability minus the probability with that one
        feature set to its training median: positive when the customer's value raises the
        risk. Ranked by absolute effect, ties in feature order, so the result is
        deterministic. Columns driver_1..k (feature names) and effect_1..k. Costs one
        prediction per feature for the customers not already at its median.
        """
        if not 1 <= k <= len(self.feature_names):
            raise ValueError(f"k must be between 1 and {len(self.feature_names)}, got {k}")
        matrix = self._matrix(features)
        probability = self.classifier.predict_proba(matrix)[:, 1]
        effects = np.zeros(matrix.shape)
        for j, name in enumerate(self.feature_names):
            # Customers already at the median have no effect: predict only the others.
            moved = matrix[:, j] != self.medians[name]
            at_median = matrix[moved]
            at_median[:, j] = self.medians[name]
            if moved.any():
                changed = self.classifier.predict_proba(at_median)[:, 1]
                effects[moved, j] = probability[moved] - changed
        order = np.argsort(-np.abs(effects), axis=1, kind="stable")[:, :k]
        names = np.asarray(self.feature_names, dtype=object)
        columns: dict[str, NDArray[np.generic]] = {}
        for rank in range(k):
            columns[f"driver_{rank + 1}"] = names[order[:, rank]]
            columns[f"effect_{rank + 1}"] = np.take_along_axis(
                effects, order[:, rank : rank + 1], axis=1
            )[:, 0]
        return pd.DataFrame(columns, index=features.index)


def train_churn(
    features: pd.DataFrame,
    churned: pd.Series,
    *,
    calibration: Literal["isotonic", "sigmoid"] = "isotonic",
    folds: int = 3,
    random_state: int = 0,
    min_per_class: int = MIN_PER_CLASS,
) -> ChurnModel:
    """Fit the calibrated classifier on features and labels (one cutoff's, or several stacked
    by labelled_examples), aligned on the same index.

    Calibration is cross-validated: each of `folds` boosted models is calibrated on the fold
    it did not see, and predictions average them. Early stopping is off and folds are not
    shuffled, so the same data and random_state give the same model.
    """
    if not churned.index.equals(features.index):
        raise ValueError("features and labels must have the same index, in the same order")
    y = churned.to_numpy(bool)
    churners, stayers = int(y.sum()), int((~y).sum())
    if min(churners, stayers) < min_per_class:
        raise InsufficientDataError(
            f"{churners} churned and {stayers} stayed; "
            f"the churn model needs at least {min_per_class} of each"
        )
    booster = HistGradientBoostingClassifier(
        learning_rate=0.05,
        max_iter=200,
        max_leaf_nodes=15,
        min_samples_leaf=40,
        l2_regularization=1.0,
        early_stopping=False,
        random_state=random_state,
    )
    classifier = CalibratedClassifierCV(booster, method=calibration, cv=folds)
    classifier.fit(features.to_numpy(np.float64), y)
    return ChurnModel(classifier, tuple(features.columns), features.median())


def global_drivers(
    model: ChurnModel,
    features: pd.DataFrame,
    churned: pd.Series,
    *,
    n_repeats: int = 5,
    random_state: int = 0,
) -> pd.DataFrame:
    """Permutation importance: the drop in AUC when one feature's column is shuffled.

    Measured on the data given (an evaluation cutoff's, not the training one, to see what
    generalizes); columns importance and std, most important first.
    """
    result = permutation_importance(
        model.classifier,
        model._matrix(features),
        churned.to_numpy(bool),
        scoring="roc_auc",
        n_repeats=n_repeats,
        random_state=random_state,
    )
    table = pd.DataFrame(
        {"importance": result.importances_mean, "std": result.importances_std},
        index=pd.Index(model.feature_names, name="feature"),
    )
    return table.sort_values("importance", ascending=False, kind="stable")


def risk_bands(
    probability: ArrayLike,
    medium_from: float = CHURN_MEDIUM_FROM,
    high_from: float = CHURN_HIGH_FROM,
) -> NDArray[np.str_]:
    """low / medium / high churn risk from the calibrated probability."""
    return bands(probability, medium_from, high_from)
