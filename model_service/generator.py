"""Seeded, deterministic delivery-time data: training data, live traffic and ground-truth labels.

The lab knows the true function that produced every label, so it can judge a model (and a learner)
against the truth. Scenarios shift the data the way real incidents do; each one has a name that the load
profiles, the drills and the curriculum refer to.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from model_service.congestion import PEAK_BONUS, TRAFFIC_BETA, TRAFFIC_MAX, TRAFFIC_SCALE
from model_service.features import FEATURE_NAMES, TARGET
from model_service.scenarios import SCENARIOS, Scenario, scenario

if TYPE_CHECKING:
    import pandas as pd

# Ground truth: minutes = intercept + sum(coef * feature) + noise.
TRUE_INTERCEPT = 8.0
TRUE_COEFFICIENTS: dict[str, float] = {
    "distance_km": 3.0,
    "items_count": 0.8,
    "is_peak_hour": 5.0,
    "traffic_index": 1.5,
    "courier_experience_months": -0.05,
}
NOISE_SD_MINUTES = 3.0


def _clean_features(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    is_peak = (rng.random(n) < 0.35).astype(np.int64)
    traffic = np.clip(rng.beta(*TRAFFIC_BETA, n) * TRAFFIC_SCALE + PEAK_BONUS * is_peak, 0.0, TRAFFIC_MAX)
    return {
        "distance_km": np.clip(rng.lognormal(mean=1.2, sigma=0.55, size=n), 0.3, 20.0),
        "items_count": np.clip(1 + rng.poisson(2.5, n), 1, 30).astype(np.int64),
        "is_peak_hour": is_peak,
        "traffic_index": traffic,
        "courier_experience_months": np.clip(rng.gamma(2.0, 12.0, n), 0.0, 240.0),
    }


def true_minutes(features: dict[str, np.ndarray], sc: Scenario | None = None) -> np.ndarray:
    """Noise-free ground truth for (true, correctly-unitted, non-missing) features."""
    sc = sc or SCENARIOS["normal"]
    coefs = {**TRUE_COEFFICIENTS, **sc.concept}
    out = np.full(len(features["distance_km"]), TRUE_INTERCEPT + sc.concept_intercept_shift)
    for name, coef in coefs.items():
        out = out + coef * np.asarray(features[name], dtype=float)
    return out


def generate(n: int, seed: int, scenario_name: str = "normal") -> pd.DataFrame:
    """``n`` rows of features *as the service receives them* plus the true label.

    Labels always come from the real world (true distances, true traffic), while the feature columns
    carry the scenario's corruption (unit bug, broken feed) -- exactly the training-serving skew a
    learner must diagnose.
    """
    import pandas as pd  # here, not at the top: the drills' traffic process uses ``columns`` and skips pandas

    return pd.DataFrame(columns(n, seed, scenario_name))


def columns(n: int, seed: int, scenario_name: str = "normal") -> dict[str, np.ndarray]:
    """``generate``'s data as numpy columns (``FEATURE_NAMES`` in order, then ``TARGET``), without pandas:
    importing it costs a short-lived process ~0.4 CPU-s."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    sc = scenario(scenario_name)
    rng = np.random.default_rng(seed)
    real = _clean_features(rng, n)
    real["distance_km"] = np.clip(real["distance_km"] * sc.distance_scale, 0.3, 60.0)
    real["traffic_index"] = np.clip(real["traffic_index"] + sc.traffic_shift, 0.0, 10.0)
    label = true_minutes(real, sc) + rng.normal(0.0, NOISE_SD_MINUTES, n)

    seen = {k: v.astype(float) if k != "items_count" and k != "is_peak_hour" else v for k, v in real.items()}
    seen["distance_km"] = seen["distance_km"] * sc.distance_unit_factor
    if sc.feed_broken == "zero":
        seen["traffic_index"] = np.zeros(n)
    elif sc.feed_broken == "null":
        seen["traffic_index"] = np.full(n, np.nan)
    out = {name: seen[name] for name in FEATURE_NAMES}
    out[TARGET] = np.maximum(label, 1.0)
    return out


def records(frame: pd.DataFrame | dict[str, np.ndarray]) -> list[dict[str, float | int | None]]:
    """Rows as JSON-ready request records (NaN becomes null, integers stay integers), from ``generate``'s
    frame or ``columns``' arrays."""
    out: list[dict[str, float | int | None]] = []
    cols = {name: np.asarray(frame[name]) for name in FEATURE_NAMES}
    for i in range(len(cols[FEATURE_NAMES[0]])):
        row: dict[str, float | int | None] = {}
        for name in FEATURE_NAMES:
            value = cols[name][i]
            if name in ("items_count", "is_peak_hour"):
                row[name] = int(value)
            elif np.isnan(value):
                row[name] = None
            else:
                row[name] = round(float(value), 4)
        out.append(row)
    return out
