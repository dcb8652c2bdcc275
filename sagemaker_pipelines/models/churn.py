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
DRIVER_BLOCK = 250_000
"""Customers whose drivers are computed together (bounds the perturbed rows in memory)."""


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
        """Each customer's k features that move their churn probability most (explain's)."""
        return self.explain(features, k)[1]

    def explain(
        self, features: pd.DataFrame, k: int = TOP_DRIVERS, *, block: int = DRIVER_BLOCK
    ) -> tuple[FloatArray, pd.DataFrame]:
        """P(churn) per customer (predict_proba's numbers) and their k top drivers.

        A feature's effect is the customer's probability minus the probability with that one
        feature set to its training median: positive when the customer's value raises the
        risk. Ranked by absolute effect, ties in feature order, so the result is
        deterministic. Columns driver_1..k (feature names) and effect_1..k.

        The trees decide only by which side of each split threshold a value falls, so a
        customer's row is known by its interval codes (split_codes): a feature whose value
        shares the median's interval has an effect of exactly zero, and rows with the same
        codes get the same probability. Each block of customers is therefore predicted once,
        in one call, over its distinct code rows among the customers and their perturbed
        copies: the same numbers as predicting every perturbed row, with fewer rows.
        """
        if not 1 <= k <= len(self.feature_names):
            raise ValueError(f"k must be between 1 and {len(self.feature_names)}, got {k}")
        matrix = self._matrix(features)
        medians = self.medians[list(self.feature_names)].to_numpy(np.float64)
        splits = split_points(self.classifier, len(self.feature_names))
        probability, effects = np.zeros(len(matrix)), np.zeros(matrix.shape)
        for start in range(0, len(matrix), block):
            rows = slice(start, start + block)
            probability[rows], effects[rows] = self._median_effects(matrix[rows], medians, splits)
        order = np.argsort(-np.abs(effects), axis=1, kind="stable")[:, :k]
        names = np.asarray(self.feature_names, dtype=object)
        columns: dict[str, NDArray[np.generic]] = {}
        for rank in range(k):
            columns[f"driver_{rank + 1}"] = names[order[:, rank]]
            columns[f"effect_{rank + 1}"] = np.take_along_axis(
                effects, order[:, rank : rank + 1], axis=1
            )[:, 0]
        return probability, pd.DataFrame(columns, index=features.index)

    def _median_effects(
        self, matrix: FloatArray, medians: FloatArray, splits: list[FloatArray]
    ) -> tuple[FloatArray, FloatArray]:
        """probability(row), and probability(row) - probability(row with feature j at its
        median) per row and j."""
        n = len(matrix)
        codes = split_codes(matrix, splits)
        median_codes = split_codes(medians[None, :], splits)[0]
        customer, feature = np.nonzero(codes != median_codes)
        perturbed = codes[customer]
        perturbed[np.arange(len(customer)), feature] = median_codes[feature]
        keys = _row_keys(np.concatenate([codes, perturbed]))
        _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        # One raw row per distinct code row: a customer's own, or its copy with one median.
        source, copied = first.copy(), first >= n
        source[copied] = customer[first[copied] - n]
        representatives = matrix[source]
        column = feature[first[copied] - n]
        representatives[np.flatnonzero(copied), column] = medians[column]
        probability = self.classifier.predict_proba(representatives)[:, 1][inverse.ravel()]
        effects = np.zeros(matrix.shape)
        effects[customer, feature] = probability[customer] - probability[n:]
        return probability[:n], effects


def split_points(classifier: CalibratedClassifierCV, n_features: int) -> list[FloatArray]:
    """Per feature, the sorted distinct thresholds every tree of every calibrated booster
    splits it at (a row goes left when its value is <= the threshold, NaN by the node's own
    rule). Reads the fitted predictors of HistGradientBoostingClassifier, as in 1.4 to 1.8."""
    found: list[list[FloatArray]] = [[] for _ in range(n_features)]
    for calibrated in classifier.calibrated_classifiers_:
        for iteration in calibrated.estimator._predictors:
            for predictor in iteration:
                nodes = predictor.nodes[predictor.nodes["is_leaf"] == 0]
                if nodes["is_categorical"].any():
                    raise ValueError("categorical splits have no thresholds")
                for j in np.unique(nodes["feature_idx"]):
                    found[j].append(nodes["num_threshold"][nodes["feature_idx"] == j])
    return [np.unique(np.concatenate(parts)) if parts else np.empty(0) for parts in found]


def split_codes(matrix: FloatArray, splits: list[FloatArray]) -> NDArray[np.int32]:
    """Per value, how many of its feature's thresholds lie below it (-1 for NaN): two values
    with the same code take the same side of every split."""
    codes = np.empty(matrix.shape, dtype=np.int32)
    for j, thresholds in enumerate(splits):
        codes[:, j] = np.searchsorted(thresholds, matrix[:, j], side="left")
    codes[np.isnan(matrix)] = -1
    return codes


def _row_keys(codes: NDArray[np.int32]) -> NDArray[np.void]:
    """Each row of codes as one comparable value, for np.unique over rows."""
    contiguous = np.ascontiguousarray(codes)
    return contiguous.view(np.dtype((np.void, contiguous.itemsize * codes.shape[1]))).ravel()


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
    # Small trees, slowly: on the generated shops 150 rounds of 7 leaves at 0.03 ranked
    # churners better than 200 of 15 at 0.05 (docs/ml.md, "Churn"), and predict faster.
    booster = HistGradientBoostingClassifier(
        learning_rate=0.03,
        max_iter=150,
        max_leaf_nodes=7,
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
