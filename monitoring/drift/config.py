"""The drift-test configuration (``drift.yml``): method and threshold per feature, prediction, dataset share.

Validated without importing Evidently (the monitor must start fast), against the method names Evidently
0.7 registers. A malformed file fails at start-up with the file and the key in the message, never halfway
through a run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from aiops_core import yaml_text
from aiops_core.errors import LabError
from model_service.features import FEATURE_NAMES, FEATURES_BY_NAME, FeatureSpec

# Evidently 0.7 stat-test names -> column types they accept.
NUMERIC_OR_CATEGORICAL = frozenset({"numerical", "categorical"})
METHODS: dict[str, frozenset[str]] = {
    **dict.fromkeys(("wasserstein", "ks", "mannw", "t_test", "anderson", "cramer_von_mises", "es", "ed",
                     "empirical_mmd"), frozenset({"numerical"})),
    **dict.fromkeys(("jensenshannon", "psi", "kl_div", "hellinger"), NUMERIC_OR_CATEGORICAL),
    **dict.fromkeys(("chisquare", "z", "fisher_exact", "g_test", "TVD"), frozenset({"categorical"})),
}
P_VALUE_METHODS = frozenset({"ks", "mannw", "t_test", "anderson", "cramer_von_mises", "es", "empirical_mmd",
                             "chisquare", "z", "fisher_exact", "g_test", "TVD"})
_TOP_KEYS = ("dataset_drift_share", "default", "features", "prediction")
# Used when drift.yml leaves out `default` or `prediction`; the shipped drift.yml explains the numbers.
_FALLBACK = {"method": "wasserstein", "threshold": 0.2}


class DriftConfigError(LabError, ValueError):
    """``drift.yml`` is malformed; the message names the file, the key and what is accepted."""


@dataclass(frozen=True)
class DriftTest:
    method: str
    threshold: float

    @property
    def higher_is_drift(self) -> bool:
        """Distances drift when high; p-values drift when low (shown next to the score in the CLI)."""
        return self.method not in P_VALUE_METHODS


@dataclass(frozen=True)
class DriftConfig:
    dataset_drift_share: float
    features: dict[str, DriftTest]  # every feature in FEATURE_NAMES, in that order
    prediction: DriftTest
    source: Path


def column_kind(spec: FeatureSpec) -> str:
    """A 0/1 integer feature is categorical for the drift tests (a histogram of two bars, not a curve)."""
    return "categorical" if spec.kind == "int" and spec.maximum - spec.minimum <= 1 else "numerical"


def load(path: Path) -> DriftConfig:
    """Read and validate ``path``; raises DriftConfigError naming the offending key."""
    try:
        raw = yaml_text.load(Path(path).read_text())
    except FileNotFoundError:
        raise DriftConfigError(f"{path}: drift config not found; unset AIOPS_DRIFT_CONFIG to use the "
                               "shipped monitoring/drift/drift.yml") from None
    except yaml.YAMLError as exc:
        raise DriftConfigError(f"{path}: not valid YAML: {exc}") from None
    return parse(raw if raw is not None else {}, Path(path))


def parse(raw: Any, source: Path) -> DriftConfig:
    if not isinstance(raw, dict):
        raise DriftConfigError(f"{source}: expected a mapping with keys {', '.join(_TOP_KEYS)}")
    unknown = sorted(set(raw) - set(_TOP_KEYS))
    if unknown:
        raise DriftConfigError(f"{source}: {unknown[0]}: unknown key; allowed: {', '.join(_TOP_KEYS)}")
    share = _number(raw.get("dataset_drift_share", 0.5), source, "dataset_drift_share")
    if not 0 < share <= 1:
        raise DriftConfigError(f"{source}: dataset_drift_share: {share} must be in (0, 1], e.g. 0.5")
    default = _test(raw.get("default", _FALLBACK), source, "default",
                    "numerical")
    listed = raw.get("features") or {}
    if not isinstance(listed, dict):
        raise DriftConfigError(f"{source}: features: expected a mapping feature -> {{method, threshold}}")
    for name in listed:
        if name not in FEATURES_BY_NAME:
            raise DriftConfigError(f"{source}: features.{name}: unknown feature; known features: "
                                   f"{', '.join(FEATURE_NAMES)}")
    features: dict[str, DriftTest] = {}
    for name in FEATURE_NAMES:
        kind = column_kind(FEATURES_BY_NAME[name])
        if name in listed:
            features[name] = _test(listed[name], source, f"features.{name}", kind)
        else:
            _check_kind(default, source, "default", kind, name)
            features[name] = default
    prediction = _test(raw.get("prediction", _FALLBACK), source, "prediction",
                       "numerical")
    return DriftConfig(dataset_drift_share=share, features=features, prediction=prediction, source=source)


def _test(raw: Any, source: Path, key: str, kind: str) -> DriftTest:
    if not isinstance(raw, dict):
        raise DriftConfigError(f"{source}: {key}: expected {{method: NAME, threshold: NUMBER}}")
    extra = sorted(set(raw) - {"method", "threshold"})
    if extra:
        raise DriftConfigError(f"{source}: {key}.{extra[0]}: unknown key; allowed: method, threshold")
    for field in ("method", "threshold"):
        if field not in raw:
            raise DriftConfigError(f"{source}: {key}.{field}: missing; set it explicitly (the point of this "
                                   "file is that Evidently never picks a test on its own)")
    method = raw["method"]
    if method not in METHODS:
        raise DriftConfigError(f"{source}: {key}.method: {method!r} is not an Evidently drift method; choose "
                               f"one of: {', '.join(sorted(METHODS))}")
    test = DriftTest(method=method, threshold=_number(raw["threshold"], source, f"{key}.threshold"))
    if test.threshold <= 0 or (method in P_VALUE_METHODS and test.threshold >= 1):
        bound = "between 0 and 1 (a p-value)" if method in P_VALUE_METHODS else "greater than 0"
        raise DriftConfigError(f"{source}: {key}.threshold: {test.threshold} must be {bound}")
    _check_kind(test, source, key, kind, key)
    return test


def _check_kind(test: DriftTest, source: Path, key: str, kind: str, what: str) -> None:
    if kind not in METHODS[test.method]:
        raise DriftConfigError(f"{source}: {key}.method: {test.method!r} cannot test {what} ({kind}); use one of: "
                               f"{', '.join(sorted(m for m, kinds in METHODS.items() if kind in kinds))}")


def _number(value: Any, source: Path, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise DriftConfigError(f"{source}: {key}: {value!r} is not a number")
    return float(value)
