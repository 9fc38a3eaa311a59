"""A LinearRegression's coefficients read straight from its skops file, without scikit-learn.

Why: the service serves ``coef_ . x + intercept_`` (``predictor``), but deserializing the artifact with skops
builds a real ``LinearRegression``, and importing scikit-learn (with the SciPy it pulls in) was two thirds of
the service's start-up: ~1.1 of ~1.6 CPU-seconds on a quiet 2-core machine. Every ``aiops-lab up``, every
drill that restarts the service and every test lab paid it.

A skops file is a zip of ``schema.json`` (the object tree, as data) and ``.npy`` arrays. This module accepts
exactly the tree ``aiops-lab model train`` writes: a ``LinearRegression`` object whose attributes are JSON
values or numpy arrays, and nothing else. It reads the arrays with ``allow_pickle=False``, so nothing in the
file is ever executed or instantiated -- a narrower gate than skops' type allow-list, not a wider one.

Anything else (another estimator, an extra object, an unknown skops protocol, a damaged array) returns None,
and the caller falls back to the full skops load, which is the source of truth: it names the untrusted types
or the damage in its own words. So this is a fast path that can only decline, never accept more.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from typing import Any

_CLASS = ("sklearn.linear_model._base", "LinearRegression")
_PROTOCOLS = frozenset({2})  # the skops schema versions whose layout this reader knows (skops 0.10 - 0.16)
_JSON_LEAF = ("builtins", "str", "JsonNode")  # how skops stores an int, float, bool, None or str attribute
_ARRAY_TYPES = frozenset({("numpy", "ndarray"), ("numpy", "float64")})


@dataclass(frozen=True)
class LinearParams:
    """What serving a linear model needs: one coefficient per feature and the intercept."""

    coefficients: tuple[float, ...]
    intercept: float
    n_features: int


def read_linear(data: bytes) -> LinearParams | None:
    """The coefficients of a plain skops ``LinearRegression`` artifact, or None for anything else."""
    try:  # numpy is imported by the calls below, not here: ``aiops-lab model list`` reads the registry too
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            schema = json.loads(archive.read("schema.json"))
            attrs = _attributes(schema)
            if attrs is None:
                return None
            values: dict[str, Any] = {}
            for name, node in attrs.items():
                value = _leaf(node, archive)
                if value is _DECLINE:
                    return None
                values[name] = value
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, EOFError, TypeError, AttributeError):
        return None
    return _params(values)


_DECLINE = object()


def _attributes(schema: Any) -> dict[str, Any] | None:
    """The attribute nodes of the top-level LinearRegression, or None when the tree is not that shape."""
    if not isinstance(schema, dict) or schema.get("protocol") not in _PROTOCOLS:
        return None
    if (schema.get("__module__"), schema.get("__class__")) != _CLASS or schema.get("__loader__") != "ObjectNode":
        return None
    state = schema.get("content")
    if not isinstance(state, dict) or (state.get("__module__"), state.get("__class__"),
                                       state.get("__loader__")) != ("builtins", "dict", "DictNode"):
        return None
    attrs, key_types = state.get("content"), state.get("key_types")
    if not isinstance(attrs, dict) or not isinstance(key_types, dict):
        return None
    keys = key_types.get("content")
    if not isinstance(keys, list) or len(keys) != len(attrs) or not all(
            isinstance(k, dict) and (k.get("__module__"), k.get("__class__"), k.get("__loader__"))
            == ("builtins", "str", "TypeNode") for k in keys):
        return None  # a non-string key (skops records each key's type) is not what training writes
    return attrs


def _leaf(node: Any, archive: zipfile.ZipFile) -> Any:
    """One attribute's value: a JSON scalar or a numeric numpy array read without pickle; else _DECLINE."""
    if not isinstance(node, dict):
        return _DECLINE
    kind = (node.get("__module__"), node.get("__class__"), node.get("__loader__"))
    if kind == _JSON_LEAF and node.get("is_json") is True and isinstance(node.get("content"), str):
        value = json.loads(node["content"])
        return value if value is None or isinstance(value, (bool, int, float, str)) else _DECLINE
    if kind[:2] in _ARRAY_TYPES and kind[2] == "NdArrayNode" and node.get("type") == "numpy":
        file = node.get("file")
        if not isinstance(file, str):
            return _DECLINE
        import numpy as np

        array = np.load(io.BytesIO(archive.read(file)), allow_pickle=False)
        return array if array.dtype.kind in "fiu" else _DECLINE
    return _DECLINE


def _params(values: dict[str, Any]) -> LinearParams | None:
    import numpy as np

    coef, intercept, n_features = values.get("coef_"), values.get("intercept_"), values.get("n_features_in_")
    if not isinstance(coef, np.ndarray) or coef.ndim != 1 or type(n_features) is not int:
        return None
    if not isinstance(intercept, np.ndarray) or intercept.ndim != 0 or len(coef) != n_features:
        return None  # a multi-output model (2-D coef_, 1-D intercept_) is not what the service serves
    return LinearParams(coefficients=tuple(float(c) for c in coef), intercept=float(intercept),
                        n_features=n_features)
