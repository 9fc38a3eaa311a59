"""Fixtures for the drift monitor: a lab state with trained models, settings that ignore the caller's env."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from monitoring.drift.monitor import Monitor
from monitoring.drift.settings import DriftSettings


@pytest.fixture(autouse=True)
def _clean_drift_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests state every setting they rely on; a developer's AIOPS_* variables must not leak in."""
    for key in list(os.environ):
        if key.startswith("AIOPS_"):
            monkeypatch.delenv(key)


@pytest.fixture
def make_monitor(lab_state: Path) -> Callable[..., Monitor]:
    """Monitor over ``lab_state`` (v1 active, v2 bad) with test-sized windows; keyword overrides win."""

    def make(**overrides: object) -> Monitor:
        values: dict[str, object] = dict(
            interval_s=3600, window_s=3600, window_rows=0, min_rows=500, min_feedback_rows=50, reports_keep=5,
            prediction_log=lab_state / "predictions.db", models_dir=lab_state / "models",
            reports_dir=lab_state / "reports" / "drift")
        values.update(overrides)
        return Monitor(DriftSettings.from_env(**values))

    return make
