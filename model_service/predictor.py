"""The serving path of the active model: a dot product, imputation, and input-anomaly accounting.

sklearn's ``predict`` spends ~150 µs per call validating input; the model itself is five multiplications.
So the service reads the skops artifact's coefficients (``linear_artifact``, without importing scikit-learn)
and serves them directly. A test
checks that this path equals ``estimator.predict`` on the golden set.

Two forms of the same arithmetic: ``predict_rows`` (a Python loop: a single row costs ~2 µs, where numpy's
per-call overhead alone is more) and ``predict_matrix`` (numpy, for batches: ~0.1 µs a row instead of ~1 µs).
Both add the terms in the same order, so a row gets bit-for-bit the same prediction alone or in a batch.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from model_service import metrics
from model_service.features import FEATURE_NAMES
from model_service.registry import LoadedModel, Registry

_ZERO_WATCHED = ("distance_km", "traffic_index", "courier_experience_months")


@functools.cache
def _anomalies(name: str, kind: str) -> Any:
    """The labelled counter child, looked up once (``labels()`` costs ~1 µs per call)."""
    return metrics.FEATURE_ANOMALIES.labels(name, kind)


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
    # medians, lows and highs as arrays, for predict_matrix
    _arrays: tuple[np.ndarray, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        arrays = tuple(np.asarray(v, dtype=float) for v in (self.medians, self.lows, self.highs))
        object.__setattr__(self, "_arrays", arrays)

    @classmethod
    def from_loaded(cls, loaded: LoadedModel) -> ServingModel:
        card, params = loaded.card, loaded.params
        ranges = [card.feature_ranges[n] for n in FEATURE_NAMES]
        return cls(
            version=card.version,
            coefficients=params.coefficients,
            intercept=params.intercept,
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
                _anomalies(name, "missing").inc(missing[i])
            if zero[i] and name in _ZERO_WATCHED:
                _anomalies(name, "zero").inc(zero[i])
            if oor[i]:
                _anomalies(name, "out_of_training_range").inc(oor[i])
        return out

    def predict_matrix(self, x: np.ndarray) -> np.ndarray:
        """``predict_rows`` for a float matrix in FEATURE_NAMES order, NaN for missing (``np.array(rows, float)``
        turns ``None`` into NaN). Counts the same anomalies; returns the predictions as an array."""
        medians, lows, highs = self._arrays
        flags = np.empty((3, *x.shape), dtype=bool)  # missing, zero, out of range
        np.isnan(x, out=flags[0])
        imputed = np.where(flags[0], medians, x)
        out = np.full(len(x), self.intercept)
        for i, c in enumerate(self.coefficients):  # term by term, in the order predict_rows adds them
            out += c * imputed[:, i]
        # NaN compares False: a missing value is neither zero nor out of range, as in predict_rows.
        np.equal(x, 0.0, out=flags[1])
        np.logical_or(x < lows, x > highs, out=flags[2])
        for kind, per_feature in zip(("missing", "zero", "out_of_training_range"), flags.sum(axis=1).tolist(),
                                     strict=True):
            for name, n in zip(FEATURE_NAMES, per_feature, strict=True):
                if n and (kind != "zero" or name in _ZERO_WATCHED):
                    _anomalies(name, kind).inc(n)
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
