"""Fixtures for whole-lab tests: an isolated state dir and free ports for every component."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from aiops_core.topology import COMPONENTS
from tests.support.processes import free_port

CLI = [sys.executable, "-m", "labs.cli"]


@pytest.fixture
def lab_env(tmp_path: Path, trained_registry: Path) -> dict[str, str]:
    """Environment for a private lab: own state dir (with a trained model), own free port per component."""
    state = tmp_path / "state"
    shutil.copytree(trained_registry, state / "models")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIOPS_")}
    env["AIOPS_STATE_DIR"] = str(state)
    for comp in COMPONENTS:
        env[comp.port_env] = str(free_port())
    return env


def run_cli(env: dict[str, str], *args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)
