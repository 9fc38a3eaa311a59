"""The on-disk registry: versions, cards, reference samples, the active pointer, history and rollback.

Artifacts are skops files; loading one must never execute or instantiate a type outside the allow-list.
"""

from __future__ import annotations

import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest
import skops.io as sio
from sklearn.linear_model import LinearRegression
from sklearn.tree import DecisionTreeRegressor

from model_service import training
from model_service.features import FEATURE_NAMES, TARGET
from model_service.registry import Registry, RegistryError

CONSTRUCTED: list[str] = []


class Payload:
    """Stands in for a malicious object: records it if skops ever rebuilds it."""

    def __init__(self) -> None:
        self.command = "rm -rf /"

    def __setstate__(self, state: dict) -> None:
        CONSTRUCTED.append("Payload")
        self.__dict__.update(state)


@pytest.fixture(scope="module")
def trained() -> training.TrainedModel:
    return training.train(rows=2000, seed=3)


@pytest.fixture
def reg(tmp_path: Path) -> Registry:
    return Registry(tmp_path / "models")


def test_empty_registry(reg: Registry) -> None:
    assert reg.versions() == [] and reg.active() is None and reg.history() == []
    with pytest.raises(RegistryError, match="none yet -- run: aiops-lab model train"):
        reg.card("v1")
    with pytest.raises(RegistryError, match="no model is active"):
        reg.rollback_target()


def test_register_round_trip(reg: Registry, trained: training.TrainedModel) -> None:
    assert reg.register(trained) == "v1"
    assert reg.register(trained) == "v2"
    assert reg.versions() == ["v1", "v2"]
    assert reg.active() is None  # registering never activates

    card = reg.card("v2")
    assert card.version == "v2"
    assert card.model_dump(exclude={"version", "artifact_sha256"}) == \
        trained.card.model_dump(exclude={"version", "artifact_sha256"})
    # The registry records what it stored, so a changed artifact is told from an intact one.
    assert card.artifact_sha256 == hashlib.sha256((reg.root / "v2" / "model.skops").read_bytes()).hexdigest()

    ref = reg.reference("v1")
    assert list(ref.columns) == [*FEATURE_NAMES, TARGET]
    assert len(ref) == card.reference_sample.rows
    assert ref[TARGET].to_numpy() == pytest.approx(trained.reference[TARGET].to_numpy())

    loaded = reg.load("v1")
    assert isinstance(loaded.estimator, LinearRegression)
    assert list(loaded.estimator.coef_) == list(trained.estimator.coef_)
    assert loaded.card.version == "v1"


def test_activate_history_and_rollback_target(reg: Registry, trained: training.TrainedModel) -> None:
    for _ in range(3):
        reg.register(trained)
    assert reg.activate("v1", actor="alice") is None
    with pytest.raises(RegistryError, match="no earlier deployment"):
        reg.rollback_target()
    assert reg.activate("v3", actor="bob") == "v1"
    assert reg.active() == "v3"
    assert Registry(reg.root).active() == "v3"  # the pointer is on disk, not in memory
    assert reg.rollback_target() == "v1"

    assert reg.activate("v1", actor="carol", action="rollback") == "v3"
    history = reg.history()
    assert [(h["action"], h["version"], h["previous"], h["actor"]) for h in history] == [
        ("deploy", "v1", None, "alice"), ("deploy", "v3", "v1", "bob"), ("rollback", "v1", "v3", "carol")]
    assert all(h["time"] for h in history)
    # No ping-pong: after rolling back, "roll back again" is not a redeploy of the bad version.
    with pytest.raises(RegistryError, match="v1 has no earlier deployment"):
        reg.rollback_target()
    reg.activate("v2")
    assert reg.rollback_target() == "v1"
    # Re-deploying the active version (a retried pipeline) changes nothing, so it does not hide the way back.
    reg.activate("v2")
    assert reg.rollback_target() == "v1"


@pytest.mark.parametrize("version", ["v9", "latest", "", "../v1", "v1/../v1", "V1"])
def test_unknown_or_malformed_versions_are_errors(reg: Registry, trained: training.TrainedModel,
                                                  version: str) -> None:
    reg.register(trained)
    for op in (reg.card, reg.reference, reg.load, reg.activate):
        with pytest.raises(RegistryError, match=r"registered versions: v1|is not a model version"):
            op(version)
    assert reg.active() is None and reg.history() == []


def test_incomplete_version_dir_is_not_listed(reg: Registry, trained: training.TrainedModel) -> None:
    reg.register(trained)
    (reg.root / "v2").mkdir()  # a trainer that crashed before writing card.json
    assert reg.versions() == ["v1"]
    assert reg.register(trained) == "v3"  # the half-written number is never reused
    assert reg.versions() == ["v1", "v3"]


def test_concurrent_registers_get_distinct_versions(reg: Registry, trained: training.TrainedModel) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        versions = list(pool.map(lambda _: reg.register(trained), range(8)))
    assert sorted(versions, key=lambda v: int(v[1:])) == [f"v{i}" for i in range(1, 9)]
    assert reg.versions() == [f"v{i}" for i in range(1, 9)]
    assert all(reg.card(v).version == v for v in versions)


def test_artifact_with_untrusted_type_is_refused(reg: Registry, trained: training.TrainedModel) -> None:
    reg.register(trained)
    est = LinearRegression().fit([[0.0] * 5, [1.0] * 5], [0.0, 1.0])
    est.sneaky = Payload()  # the estimator is genuine, but it carries an object of another type
    sio.dump(est, reg.root / "v1" / "model.skops")
    CONSTRUCTED.clear()
    with pytest.raises(RegistryError, match=r"not allowed: \[.*Payload.*\]"):
        reg.load("v1")
    assert CONSTRUCTED == []  # refused before anything was instantiated

    sio.dump(Payload(), reg.root / "v1" / "model.skops")
    with pytest.raises(RegistryError, match="Payload"):
        reg.load("v1")
    assert CONSTRUCTED == []


def test_artifact_of_another_estimator_is_refused(reg: Registry, trained: training.TrainedModel) -> None:
    reg.register(trained)
    sio.dump(DecisionTreeRegressor(max_depth=1).fit([[0.0] * 5, [1.0] * 5], [0.0, 1.0]),
             reg.root / "v1" / "model.skops")
    with pytest.raises(RegistryError, match=r"not allowed: \[.sklearn.tree._tree.Tree.\]"):
        reg.load("v1")


def test_active_pointer_is_plain_json(reg: Registry, trained: training.TrainedModel) -> None:
    reg.register(trained)
    reg.activate("v1")
    pointer = json.loads((reg.root / "active.json").read_text())
    assert pointer["version"] == "v1" and pointer["since"]
    assert not list(reg.root.glob("*.tmp"))


@pytest.mark.parametrize("damage", ["garbage artifact", "missing artifact", "corrupt card"])
def test_damaged_version_is_a_registry_error_not_a_crash(reg: Registry, trained: training.TrainedModel,
                                                         damage: str) -> None:
    reg.register(trained)
    vdir = reg.root / "v1"
    if damage == "garbage artifact":
        (vdir / "model.skops").write_bytes(b"not a zip file")
    elif damage == "missing artifact":
        (vdir / "model.skops").unlink()
    else:
        (vdir / "card.json").write_text("{truncated")
    with pytest.raises(RegistryError, match=r"model version v1 cannot be loaded .*aiops-lab model train"):
        reg.load("v1")


def test_reference_head_equals_what_pandas_reads(reg: Registry, trained: training.TrainedModel) -> None:
    """The service's explainer background is read with the csv module (no pandas in the service)."""
    reg.register(trained)
    head = reg.reference_head("v1", FEATURE_NAMES, 200)
    # pandas' default float parser may differ in the last bit; its round-trip one is exact, as float() is
    frame = pd.read_csv(reg.root / "v1" / reg.card("v1").reference_sample.path, float_precision="round_trip")
    assert len(head) == 200 and head == frame[list(FEATURE_NAMES)].head(200).to_numpy(dtype=float).tolist()
    assert reg.reference_head("v1", ["traffic_index"], 3) == [[v] for v in frame["traffic_index"].head(3)]


def test_reference_head_reads_missing_cells_as_nan_and_names_a_bad_file(reg: Registry,
                                                                        trained: training.TrainedModel) -> None:
    reg.register(trained)
    path = reg.root / "v1" / reg.card("v1").reference_sample.path
    path.write_text("distance_km,items_count\n1.5,\nNA,2\n")
    rows = reg.reference_head("v1", ["distance_km", "items_count"], 10)
    assert rows[0][0] == 1.5 and rows[0][1] != rows[0][1] and rows[1][0] != rows[1][0] and rows[1][1] == 2.0
    with pytest.raises(RegistryError, match=r"v1 cannot be loaded .*reference.*traffic_index"):
        reg.reference_head("v1", ["traffic_index"], 10)  # a column the file lacks
    path.write_text("")
    with pytest.raises(RegistryError, match=r"reference.*: empty\); deploy another version"):
        reg.reference_head("v1", FEATURE_NAMES, 10)
    path.write_text("distance_km\nfast\n")
    with pytest.raises(RegistryError, match="could not convert string to float: 'fast'"):
        reg.reference_head("v1", ["distance_km"], 10)
    path.unlink()
    with pytest.raises(RegistryError, match="No such file"):
        reg.reference_head("v1", ["distance_km"], 10)
