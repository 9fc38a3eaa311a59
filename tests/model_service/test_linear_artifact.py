"""The serving path's skops reader: exactly skops' coefficients for what training writes, None for the rest.

None is the reader declining: the registry then loads through skops' type gate (tests/model_service/
test_registry.py checks that path's refusals), so the reader must never accept what that gate would refuse.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
import skops.io as sio
from sklearn.linear_model import LinearRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeRegressor

from model_service import linear_artifact, training
from model_service.linear_artifact import read_linear
from model_service.registry import Registry

X = np.arange(20.0).reshape(4, 5) ** 1.5


@pytest.fixture(scope="module")
def trained() -> training.TrainedModel:
    return training.train(rows=2000, seed=5)


def _rewrite_schema(data: bytes, change) -> bytes:
    """``data`` with its schema.json passed through ``change`` (the arrays kept as they are)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            body = src.read(name)
            if name == "schema.json":
                schema = json.loads(body)
                change(schema)
                body = json.dumps(schema).encode()
            dst.writestr(name, body)
    return out.getvalue()


def test_reads_exactly_what_skops_loads(trained: training.TrainedModel) -> None:
    data = sio.dumps(trained.estimator)
    params = read_linear(data)
    assert params is not None
    est = sio.loads(data, trusted=sio.get_untrusted_types(data=data))
    assert params.coefficients == tuple(float(c) for c in est.coef_)  # bit for bit, not approximately
    assert params.intercept == float(est.intercept_)
    assert params.n_features == est.n_features_in_ == 5


def test_predictions_from_the_params_equal_sklearn(trained: training.TrainedModel) -> None:
    params = read_linear(sio.dumps(trained.estimator))
    assert params is not None
    ours = X @ np.array(params.coefficients) + params.intercept
    assert np.allclose(ours, trained.estimator.predict(X), rtol=0, atol=1e-9)


@pytest.mark.parametrize("estimator", [
    DecisionTreeRegressor(max_depth=1),  # another estimator (skops trusts it, but it holds a Tree)
    Ridge(),  # the same coef_/intercept_ attributes, another class
    make_pipeline(StandardScaler(), LinearRegression()),  # a LinearRegression inside something else
], ids=["tree", "ridge", "pipeline"])
def test_declines_other_estimators(estimator: object) -> None:
    estimator.fit(X, np.arange(4.0))  # type: ignore[attr-defined]
    assert read_linear(sio.dumps(estimator)) is None


def test_declines_an_extra_object_and_a_multi_output_model() -> None:
    est = LinearRegression().fit(X, np.arange(4.0))
    est.extra = {"nested": [1, 2]}  # a dict attribute: not a JSON leaf or an array
    assert read_linear(sio.dumps(est)) is None
    two = LinearRegression().fit(X, np.stack([np.arange(4.0), np.arange(4.0) * 2], axis=1))
    assert read_linear(sio.dumps(two)) is None


@pytest.mark.parametrize("change", [
    lambda s: s.update(protocol=99),  # a skops layout this reader does not know
    lambda s: s.update(__class__="LinearRegressionX"),
    lambda s: s["content"]["content"]["coef_"].update(file="missing.npy"),
    lambda s: s["content"]["content"]["coef_"].update(type="json"),
    lambda s: s["content"]["content"].pop("intercept_"),
    lambda s: s["content"]["content"]["n_features_in_"].update(content="\"5\""),
    lambda s: s["content"]["key_types"]["content"][0].update(__class__="int"),
], ids=["protocol", "class", "missing-array", "json-array", "no-intercept", "features-as-text", "int-key"])
def test_declines_a_tree_it_does_not_know(trained: training.TrainedModel, change) -> None:
    data = sio.dumps(trained.estimator)
    assert read_linear(data) is not None
    assert read_linear(_rewrite_schema(data, change)) is None


def test_declines_what_is_not_a_skops_file(trained: training.TrainedModel) -> None:
    data = sio.dumps(trained.estimator)
    for bad in (b"", b"not a zip", data[: len(data) // 2], _rewrite_schema(data, lambda s: s.clear())):
        assert read_linear(bad) is None


def test_an_object_array_is_never_unpickled(trained: training.TrainedModel) -> None:
    """An .npy of dtype object needs pickle to load: the reader refuses it instead of executing it."""
    data = sio.dumps(trained.estimator)
    schema_file = json.loads(zipfile.ZipFile(io.BytesIO(data)).read("schema.json"))
    coef_file = schema_file["content"]["content"]["coef_"]["file"]
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            body = src.read(name)
            if name == coef_file:
                buf = io.BytesIO()
                np.save(buf, np.array([object()] * 5, dtype=object), allow_pickle=True)
                body = buf.getvalue()
            dst.writestr(name, body)
    assert read_linear(out.getvalue()) is None


def test_the_registry_falls_back_to_skops_when_the_reader_declines(
        tmp_path: Path, trained: training.TrainedModel, monkeypatch: pytest.MonkeyPatch) -> None:
    reg = Registry(tmp_path / "models")
    reg.register(trained)
    fast = reg.load("v1")
    assert fast._estimator is None  # the fast path deserialized nothing
    monkeypatch.setattr("model_service.registry.read_linear", lambda data: None)
    slow = reg.load("v1")
    assert slow._estimator is not None and slow.params == fast.params
    assert isinstance(fast.estimator, LinearRegression)  # deserialized on demand, through the type gate
    assert linear_artifact.LinearParams(*fast.params.__dict__.values()) == fast.params
