"""A damaged registry file is named, with the way out; what the history can restore, ``repair`` restores.

Issue 14: a truncated ``active.json`` failed every reader with a bare ``JSONDecodeError``, and a corrupt
artifact was reported as "no model is active". Here each kind of damage is made on disk the way a full disk,
a bad copy or a stray edit makes it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from model_service.registry import Registry, RegistryError
from model_service.registry_repair import repair


@pytest.fixture
def reg(tmp_path: Path, trained_registry: Path) -> Registry:
    """v1 (active) and v2, as ``trained_registry`` holds them."""
    shutil.copytree(trained_registry, tmp_path / "models")
    return Registry(tmp_path / "models")


def _truncate(path: Path, keep: int) -> None:
    path.write_bytes(path.read_bytes()[:keep])


@pytest.mark.parametrize(("content", "why"), [
    (b'{"version": "v1", "s', "not valid JSON"), (b"", "the file is empty"), (b"[]", 'no valid "version"'),
    (b'{"version": "latest"}', "found 'latest'"), (b"\xff\xfe", "not valid JSON"),
])
def test_a_corrupt_pointer_is_named_with_its_repair(reg: Registry, content: bytes, why: str) -> None:
    (reg.root / "active.json").write_bytes(content)
    with pytest.raises(RegistryError) as caught:
        reg.active()
    message = str(caught.value)
    assert str(reg.root / "active.json") in message and why in message
    assert "aiops-lab model repair" in message and "aiops-lab model deploy VERSION" in message
    with pytest.raises(RegistryError, match=r"active\.json is corrupt"):
        reg.rollback_target()


def test_activate_replaces_a_corrupt_pointer_without_reading_it(reg: Registry) -> None:
    _truncate(reg.root / "active.json", 20)
    assert reg.activate("v2", actor="alice") == "v1"  # the history says what the pointer held
    assert reg.active() == "v2"
    assert reg.rollback_target() == "v1"


def test_repair_rebuilds_the_pointer_from_the_history(reg: Registry) -> None:
    reg.activate("v2", actor="alice")
    since = reg.history()[-1]["time"]
    _truncate(reg.root / "active.json", 20)
    findings = repair(reg)
    assert [(f.fixed, f.blocking) for f in findings] == [(True, False)]
    assert "active.json was corrupt (not valid JSON" in findings[0].message and "v2" in findings[0].message
    assert json.loads((reg.root / "active.json").read_text()) == {"version": "v2", "since": since}
    assert len(reg.history()) == 2  # a repair is not a deployment
    assert repair(reg) == []  # intact now


def test_repair_without_a_history_names_the_manual_fix(reg: Registry) -> None:
    (reg.root / "deployments.jsonl").unlink()
    (reg.root / "active.json").write_text("{")
    [finding] = repair(reg)
    assert finding.blocking and "aiops-lab model deploy VERSION" in finding.message


def test_a_torn_history_line_is_skipped_and_never_glued_to_the_next_entry(reg: Registry) -> None:
    history = reg.root / "deployments.jsonl"
    with history.open("a") as fh:
        fh.write('{"time": "2026-01-01T00:00:00+00:00", "action": "depl')  # a crash in the middle of an append
    assert [h["version"] for h in reg.history()] == ["v1"]
    reg.activate("v2", actor="bob")
    assert [h["version"] for h in reg.history()] == ["v1", "v2"]
    assert reg.read_history()[1] == [2]
    [finding] = repair(reg)
    assert finding.fixed and "dropped 1 unreadable line(s) (2)" in finding.message
    assert reg.read_history() == (reg.history(), [])


@pytest.mark.parametrize(("damage", "why"), [
    ("truncated", "not a readable zip archive"),
    ("flipped byte", "fails its CRC check"),
    ("another model", "sha256 is not the one recorded"),
    ("missing", "is missing"),
])
def test_a_damaged_artifact_is_named_by_file(reg: Registry, damage: str, why: str) -> None:
    artifact = reg.root / "v1" / "model.skops"
    if damage == "truncated":
        _truncate(artifact, 300)
    elif damage == "flipped byte":
        data = bytearray(artifact.read_bytes())
        data[200] ^= 0xFF  # inside the first member's compressed bytes
        artifact.write_bytes(bytes(data))
    elif damage == "another model":
        shutil.copy(reg.root / "v2" / "model.skops", artifact)  # a valid artifact, but not v1's
    else:
        artifact.unlink()
    problem = reg.problem("v1")
    assert problem is not None and str(artifact) in problem and why in problem
    assert reg.problem("v2") is None
    with pytest.raises(RegistryError, match=r"model version v1 cannot be loaded \(.*model\.skops") as caught:
        reg.load("v1")
    assert why in str(caught.value) and "aiops-lab model train --deploy" in str(caught.value)
    with pytest.raises(RegistryError, match="v1 cannot be served"):
        reg.rollback_target()
    [finding] = repair(reg)  # the pointer is fine; the artifact cannot be rebuilt from anything
    assert finding.blocking and "v1 is the active version and cannot be served" in finding.message
    assert "aiops-lab model deploy v2" in finding.message and "aiops-lab model train --deploy" in finding.message


def test_a_corrupt_card_is_named_and_the_version_still_listed(reg: Registry) -> None:
    _truncate(reg.root / "v2" / "card.json", 50)
    assert reg.versions() == ["v1", "v2"]
    problem = reg.problem("v2")
    assert problem is not None and str(reg.root / "v2" / "card.json") in problem and "is corrupt" in problem
    with pytest.raises(RegistryError, match=r"v2/card\.json is corrupt"):
        reg.card("v2")

