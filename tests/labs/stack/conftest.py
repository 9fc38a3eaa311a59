"""Fixtures for whole-lab tests: a private lab (own state dir with a trained model, own free ports)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.lab import Lab


@pytest.fixture
def lab_env(tmp_path: Path, trained_registry: Path) -> dict[str, str]:
    """Environment for a private lab: own state dir (with a trained model), own free port per component."""
    state = tmp_path / "state"
    shutil.copytree(trained_registry, state / "models")
    return Lab.create(state).env


def run_cli(env: dict[str, str], *args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return Lab(env).cli(*args, timeout=timeout)
