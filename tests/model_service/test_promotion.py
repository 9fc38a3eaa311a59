"""The promotion gate: golden-set MAE of the candidate against the active model's, with a relative margin."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from model_service import promotion
from model_service.registry import Registry


@pytest.fixture
def reg(tmp_path: Path, trained_registry: Path) -> Registry:
    """v1 (active, clean) and v2 (60% shuffled labels: ~+85% golden-set MAE)."""
    shutil.copytree(trained_registry, tmp_path / "models")
    return Registry(tmp_path / "models")


def _mae(reg: Registry, version: str) -> float:
    return reg.card(version).metrics["golden"].mae


def test_a_much_worse_candidate_is_refused_with_both_maes(reg: Registry) -> None:
    with pytest.raises(promotion.PromotionRefused) as caught:
        promotion.check(reg, "v2")
    message = str(caught.value)
    assert f"{_mae(reg, 'v2'):.2f} min against {_mae(reg, 'v1'):.2f} min for the active v1" in message
    assert "at most +10%" in message and "aiops-lab model deploy v2 --force" in message


def test_the_margin_is_configurable(reg: Registry) -> None:
    increase = _mae(reg, "v2") / _mae(reg, "v1") - 1
    assert promotion.check(reg, "v2", max_increase=increase + 0.01).increase == pytest.approx(increase)
    with pytest.raises(promotion.PromotionRefused, match=r"at most \+50%"):
        promotion.check(reg, "v2", max_increase=0.5)


def test_a_better_or_equal_candidate_and_a_first_deploy_pass(reg: Registry) -> None:
    reg.activate("v2")
    assert promotion.check(reg, "v1").increase < 0  # going back to the better model is never refused
    assert promotion.check(reg, "v2") is None  # the active one itself: nothing to compare
    (reg.root / "active.json").unlink()
    (reg.root / "deployments.jsonl").unlink()
    assert promotion.check(reg, "v2") is None  # nothing is active: nothing to compare with


def test_a_corrupt_pointer_compares_with_the_version_the_history_names(reg: Registry) -> None:
    (reg.root / "active.json").write_text('{"vers')
    with pytest.raises(promotion.PromotionRefused, match="for the active v1"):
        promotion.check(reg, "v2")


def test_nothing_is_protected_while_the_active_version_cannot_be_served(reg: Registry) -> None:
    artifact = reg.root / "v1" / "model.skops"
    artifact.write_bytes(artifact.read_bytes()[:100])
    assert promotion.check(reg, "v2") is None  # the outage's fix is whatever intact version there is
