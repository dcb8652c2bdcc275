"""The model bundle: what training saves and scoring loads, as one artifact.

One training run fits the churn classifier on the training examples and BG/NBD plus
Gamma-Gamma on the orders up to the evaluation cutoff (so the holdout after it checks the
CLV honestly). The bundle is pickled with joblib (model.joblib) beside a readable model.json
of its parameters; both go into the one model.tar.gz registered in the churn and CLV groups.
"""

from __future__ import annotations

import json
import tarfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import joblib
import pandas as pd

from sagemaker_pipelines.models.btyd import BgNbd, GammaGamma, fit_gamma_gamma
from sagemaker_pipelines.models.churn import ChurnModel, train_churn
from sagemaker_pipelines.models.datasets import LABEL, feature_columns
from sagemaker_pipelines.models.features import build_features
from sagemaker_pipelines.models.transactions import rfm_summary

MODEL_FILE = "model.joblib"
DESCRIPTION_FILE = "model.json"
ARCHIVE_FILE = "model.tar.gz"


@dataclass(frozen=True)
class ModelBundle:
    """cutoff: the evaluation cutoff the CLV models were fitted at; base_rate: the churn rate
    of the training examples (the constant baseline's probability)."""

    churn: ChurnModel
    bgnbd: BgNbd
    gamma_gamma: GammaGamma
    cutoff: pd.Timestamp
    horizon_days: int
    unit_days: float
    base_rate: float
    trained_at: datetime

    @property
    def feature_names(self) -> tuple[str, ...]:
        return self.churn.feature_names

    def describe(self) -> dict[str, Any]:
        """The bundle's readable parameters (model.json)."""
        return {
            "trained_at": self.trained_at.isoformat(),
            "cutoff": self.cutoff.date().isoformat(),
            "horizon_days": self.horizon_days,
            "unit_days": self.unit_days,
            "bgnbd": {name: getattr(self.bgnbd, name) for name in ("r", "alpha", "a", "b")},
            "gamma_gamma": {name: getattr(self.gamma_gamma, name) for name in ("p", "q", "v")},
            "churn": {"features": list(self.feature_names), "training_churn_rate": self.base_rate},
        }


def train_bundle(
    train: pd.DataFrame,
    log: pd.DataFrame,
    cutoff: pd.Timestamp,
    horizon_days: int,
    trained_at: datetime,
) -> ModelBundle:
    """Fit every model of a run from the training examples and the clean placed log.

    `cutoff` is the run's evaluation cutoff (the training labels end there); the CLV models
    see the orders up to it, as the churn features there do.
    """
    churn = train_churn(train[feature_columns(train)], train[LABEL])
    bgnbd = build_features(log, cutoff, horizon_days=horizon_days).bgnbd
    summary = rfm_summary(log, cutoff).customers
    gamma_gamma = fit_gamma_gamma(summary["frequency"], summary["monetary_value"]).params
    return ModelBundle(
        churn=churn,
        bgnbd=bgnbd,
        gamma_gamma=gamma_gamma,
        cutoff=cutoff,
        horizon_days=horizon_days,
        unit_days=1.0,
        base_rate=float(train[LABEL].mean()),
        trained_at=trained_at,
    )


def save_bundle(bundle: ModelBundle, folder: Path) -> None:
    """model.joblib and model.json in `folder` (created if needed)."""
    folder.mkdir(parents=True, exist_ok=True)
    joblib.dump(bundle, folder / MODEL_FILE)
    (folder / DESCRIPTION_FILE).write_text(json.dumps(bundle.describe(), indent=2) + "\n")


def load_bundle(folder: Path) -> ModelBundle:
    """The bundle in `folder`: model.joblib, or extracted from model.tar.gz (SageMaker hands
    a training job's output to later steps as that archive)."""
    path = folder / MODEL_FILE
    if not path.exists():
        archive = folder / ARCHIVE_FILE
        if not archive.exists():
            raise FileNotFoundError(f"neither {MODEL_FILE} nor {ARCHIVE_FILE} in {folder}")
        with tarfile.open(archive) as tar:
            member = tar.extractfile(MODEL_FILE)
            if member is None:
                raise FileNotFoundError(f"{archive} holds no {MODEL_FILE}")
            bundle = joblib.load(member)
    else:
        bundle = joblib.load(path)
    if not isinstance(bundle, ModelBundle):
        raise TypeError(f"{folder} holds a {type(bundle).__name__}, not a model bundle")
    return bundle


def archive_bundle(folder: Path, archive: Path) -> None:
    """Pack model.joblib and model.json from `folder` into `archive` (a model.tar.gz), as
    SageMaker packs a training job's model directory."""
    archive.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "w:gz") as tar:
        for name in (MODEL_FILE, DESCRIPTION_FILE):
            tar.add(folder / name, arcname=name)
