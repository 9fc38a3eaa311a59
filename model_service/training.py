"""Fit, evaluate and register a delivery-time model.

Bad candidates are made here on purpose: the bad-deploy drill needs a model that looks like a routine
release (same features, same API) but was trained on broken data.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LinearRegression
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

from model_service import generator
from model_service.corruptions import CORRUPTIONS
from model_service.features import FEATURE_NAMES, FEATURES, TARGET
from model_service.model_card import EvalMetrics, FeatureRange, ModelCard, ReferenceSample

# The golden set: a fixed, labelled, clean sample used to judge any model (and drill outcomes).
GOLDEN_SEED = 424242
GOLDEN_ROWS = 2000
REFERENCE_ROWS = 2000


@dataclass
class TrainedModel:
    estimator: LinearRegression
    card: ModelCard
    reference: pd.DataFrame


def _evaluate(est: LinearRegression, frame: pd.DataFrame) -> EvalMetrics:
    pred = est.predict(frame[list(FEATURE_NAMES)].to_numpy(dtype=float))
    y = frame[TARGET].to_numpy()
    return EvalMetrics(
        mae=float(mean_absolute_error(y, pred)),
        rmse=float(np.sqrt(mean_squared_error(y, pred))),
        r2=float(r2_score(y, pred)),
        rows=len(frame),
    )


def golden_set() -> pd.DataFrame:
    """The fixed labelled set every model and every drill outcome is judged on."""
    return generator.generate(GOLDEN_ROWS, GOLDEN_SEED, "normal")


def _corrupt(frame: pd.DataFrame, corruption: str | None, rng: np.random.Generator) -> pd.DataFrame:
    if corruption is None:
        return frame
    frame = frame.copy()
    if corruption == "labels-shuffled":
        idx = rng.choice(len(frame), size=int(0.6 * len(frame)), replace=False)
        frame.loc[frame.index[idx], TARGET] = rng.permutation(frame[TARGET].to_numpy()[idx])
    elif corruption == "distance-metres":
        frame["distance_km"] = frame["distance_km"] * 1000.0
    else:
        raise ValueError(f"unknown corruption {corruption!r}; choose one of: {', '.join(CORRUPTIONS)}")
    return frame


def train(rows: int = 20_000, seed: int = 7, scenario: str = "normal",
          corruption: str | None = None, description: str = "") -> TrainedModel:
    """Fit on generated data; evaluate on a held-out split and on the golden set."""
    if rows < 100:
        raise ValueError(f"rows must be at least 100 to train and evaluate, got {rows}")
    return train_on_frame(generator.generate(rows, seed, scenario), seed=seed, data_scenario=scenario,
                          corruption=corruption, description=description)


def train_on_frame(data: pd.DataFrame, seed: int, data_scenario: str, corruption: str | None = None,
                   description: str = "") -> TrainedModel:
    """Fit on any labelled frame (generated, or the prediction log joined with feedback)."""
    missing = [c for c in (*FEATURE_NAMES, TARGET) if c not in data.columns]
    if missing:
        raise ValueError(f"training data lacks columns: {', '.join(missing)}")
    rng = np.random.default_rng(seed + 1)
    order = rng.permutation(len(data))
    cut = int(0.8 * len(data))
    train_frame = _corrupt(data.iloc[order[:cut]].reset_index(drop=True), corruption, rng)
    holdout = data.iloc[order[cut:]].reset_index(drop=True)
    medians = train_frame.median(numeric_only=True)
    train_frame = train_frame.fillna(medians)
    holdout = holdout.fillna(medians)

    est = LinearRegression()
    est.fit(train_frame[list(FEATURE_NAMES)].to_numpy(dtype=float), train_frame[TARGET].to_numpy())

    digest = hashlib.sha256(pd.util.hash_pandas_object(train_frame, index=False).to_numpy().tobytes())
    reference = train_frame.sample(n=min(REFERENCE_ROWS, len(train_frame)), random_state=seed)
    card = ModelCard(
        version="unregistered",
        created_at=datetime.now(UTC),
        description=description or (CORRUPTIONS[corruption] if corruption else f"trained on {data_scenario} data"),
        training_data_hash=digest.hexdigest(),
        training_rows=len(train_frame),
        data_scenario=data_scenario,
        corruption=corruption,
        seed=seed,
        feature_schema=[{"name": f.name, "unit": f.unit, "kind": f.kind, "minimum": f.minimum,
                         "maximum": f.maximum, "nullable": f.nullable} for f in FEATURES],
        feature_ranges={
            name: FeatureRange(min=float(train_frame[name].min()), max=float(train_frame[name].max()),
                               median=float(train_frame[name].median()))
            for name in FEATURE_NAMES
        },
        coefficients={name: float(c) for name, c in zip(FEATURE_NAMES, est.coef_, strict=True)},
        intercept=float(est.intercept_),
        metrics={"holdout": _evaluate(est, holdout), "golden": _evaluate(est, golden_set())},
        reference_sample=ReferenceSample(path="reference.csv", rows=len(reference)),
    )
    return TrainedModel(estimator=est, card=card, reference=reference.reset_index(drop=True))


def labelled_log_frame(log_path: Path, since_ts: float = 0.0) -> pd.DataFrame:
    """Logged predictions that received feedback, as a training frame (features + true label)."""
    from model_service.prediction_log import connect

    if not Path(log_path).is_file():
        raise ValueError(f"no prediction log at {log_path}; send traffic with feedback first (aiops-lab load run)")
    conn = connect(Path(log_path), readonly=True)
    try:
        cols = ", ".join(f"p.{n}" for n in FEATURE_NAMES)
        frame = pd.read_sql_query(
            f"SELECT {cols}, f.actual AS {TARGET} FROM predictions p JOIN feedback f ON f.prediction_id = p.id "
            "WHERE p.ts >= ?", conn, params=(since_ts,))
    finally:
        conn.close()
    return frame
