"""The reference a window is compared with: the active version's training sample, plus its predictions.

Reference predictions are the model card's coefficients applied to the sample, imputing missing values
with the card's medians exactly like the service does -- so prediction drift compares like with like
without loading the estimator. The card's training ranges bound the "out of range" check.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from aiops_core.errors import Conflict
from model_service.features import FEATURE_NAMES, TARGET
from model_service.model_card import FeatureRange
from model_service.registry import Registry, RegistryError
from monitoring.drift.window import ACTUAL, PREDICTION


class NoActiveModel(Conflict):
    """No model is active, so there is nothing to compare with."""


@dataclass(frozen=True)
class Reference:
    version: str
    frame: pd.DataFrame  # features (float), PREDICTION and ACTUAL, in minutes
    ranges: dict[str, FeatureRange]
    holdout_mae_minutes: float


class ReferenceStore:
    """Loads references from the registry, keeping the last few (a reference never changes once written)."""

    def __init__(self, models_dir: Path) -> None:
        self.registry = Registry(models_dir)
        self._cache: dict[str, Reference] = {}

    def active_version(self) -> str:
        try:
            version = self.registry.active()
        except RegistryError as exc:  # a corrupt pointer: a counted failure naming the file and the repair
            raise NoActiveModel(str(exc)) from None
        if version is None:
            raise NoActiveModel(f"no model is active in {self.registry.root}; run: aiops-lab model train")
        return version

    def get(self, version: str) -> Reference:
        if version not in self._cache:
            if len(self._cache) >= 4:
                self._cache.pop(next(iter(self._cache)))
            self._cache[version] = self._load(version)
        return self._cache[version]

    def _load(self, version: str) -> Reference:
        try:
            card = self.registry.card(version)
            sample = self.registry.reference(version)
        except (RegistryError, OSError, ValueError) as exc:
            raise NoActiveModel(f"the reference of {version} cannot be read: {exc}") from None
        missing = [c for c in FEATURE_NAMES if c not in sample.columns]
        if missing:
            raise NoActiveModel(f"the reference of {version} lacks columns {', '.join(missing)}")
        frame = pd.DataFrame({name: sample[name].astype(float) for name in FEATURE_NAMES})
        imputed = frame.fillna({n: card.feature_ranges[n].median for n in FEATURE_NAMES})
        coefs = np.array([card.coefficients[n] for n in FEATURE_NAMES])
        frame[PREDICTION] = imputed.to_numpy() @ coefs + card.intercept
        frame[ACTUAL] = sample[TARGET].astype(float) if TARGET in sample.columns else np.nan
        holdout = card.metrics.get("holdout")
        return Reference(version=version, frame=frame, ranges=dict(card.feature_ranges),
                         holdout_mae_minutes=holdout.mae if holdout else float("nan"))
