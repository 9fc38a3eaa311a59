"""The serving path of the active model: a dot product, imputation, and input-anomaly accounting.

sklearn's ``predict`` spends ~150 µs per call validating input; the model itself is five multiplications.
So the service loads the skops artifact (the source of truth) and serves its coefficients directly. A test
checks that this path equals ``estimator.predict`` on the golden set.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from model_service import metrics
from model_service.features import FEATURE_NAMES
from model_service.registry import LoadedModel, Registry

_ZERO_WATCHED = ("distance_km", "traffic_index", "courier_experience_months")


@dataclass(frozen=True)
class ServingModel:
    version: str
    coefficients: tuple[float, ...]
    intercept: float
    medians: tuple[float, ...]
    lows: tuple[float, ...]
    highs: tuple[float, ...]
    created_ts: float
    loaded: LoadedModel

    @classmethod
    def from_loaded(cls, loaded: LoadedModel) -> ServingModel:
        card = loaded.card
        est = loaded.estimator
        ranges = [card.feature_ranges[n] for n in FEATURE_NAMES]
        return cls(
            version=card.version,
            coefficients=tuple(float(c) for c in est.coef_),
            intercept=float(est.intercept_),
            medians=tuple(r.median for r in ranges),
            lows=tuple(r.min for r in ranges),
            highs=tuple(r.max for r in ranges),
            created_ts=card.created_at.timestamp(),
            loaded=loaded,
        )

    def predict_rows(self, rows: list[list[float | None]]) -> list[float]:
        """Predict minutes for rows in FEATURE_NAMES order; ``None`` is imputed with the median.

        Also counts missing / zero / out-of-training-range inputs per feature.
        """
        coefs, b, med, lo, hi = self.coefficients, self.intercept, self.medians, self.lows, self.highs
        n_feat = len(coefs)
        missing = [0] * n_feat
        zero = [0] * n_feat
        oor = [0] * n_feat
        out: list[float] = []
        for row in rows:
            total = b
            for i in range(n_feat):
                v = row[i]
                if v is None:
                    missing[i] += 1
                    v = med[i]
                else:
                    if v == 0:
                        zero[i] += 1
                    if v < lo[i] or v > hi[i]:
                        oor[i] += 1
                total += coefs[i] * v
            out.append(total)
        for i, name in enumerate(FEATURE_NAMES):
            if missing[i]:
                metrics.FEATURE_ANOMALIES.labels(name, "missing").inc(missing[i])
            if zero[i] and name in _ZERO_WATCHED:
                metrics.FEATURE_ANOMALIES.labels(name, "zero").inc(zero[i])
            if oor[i]:
                metrics.FEATURE_ANOMALIES.labels(name, "out_of_training_range").inc(oor[i])
        return out

    def explain(self, row: list[float | None], background: np.ndarray, samples: int = 64) -> dict[str, float]:
        """A model-agnostic sampling explainer (what a generic SHAP-style library would run).

        It is deliberately the expensive, generic approach: it treats the model as a black box and
        re-predicts many perturbed copies of the row. That cost is what the latency drill is about.
        """
        x = np.array([med if v is None else v for v, med in zip(row, self.medians, strict=True)])
        coefs = np.array(self.coefficients)
        rng = np.random.default_rng(0)
        contrib = np.zeros(len(x))
        for _ in range(samples):
            perm = rng.permutation(len(x))
            current = background.copy()
            prev = current @ coefs + self.intercept
            for j in perm:
                current[:, j] = x[j]
                pred = current @ coefs + self.intercept
                contrib[j] += float(np.mean(pred - prev))
                prev = pred
        return {name: round(c / samples, 4) for name, c in zip(FEATURE_NAMES, contrib, strict=True)}


def load_active(registry: Registry, version: str | None = None) -> ServingModel:
    """Load ``version`` (default: the active one) and publish its identity as metrics."""
    started = time.perf_counter()
    loaded = registry.load(version or registry.active() or "")
    model = ServingModel.from_loaded(loaded)
    metrics.MODEL_LOAD_SECONDS.set(time.perf_counter() - started)
    metrics.MODEL_INFO.clear()
    card = loaded.card
    metrics.MODEL_INFO.labels(card.version, card.algorithm.rsplit(".", 1)[-1], card.data_scenario,
                              card.training_data_hash[:12]).set(1)
    metrics.MODEL_CREATED.set(model.created_ts)
    return model
