"""Shared fixtures: a trained model registry and the real model service on a free port."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from model_service import training
from model_service.registry import Registry
from tests.support.processes import ServiceUnderTest, start_service


@pytest.fixture(scope="session")
def trained_registry(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A models dir with v1 (good, active) and v2 (bad candidate: shuffled labels). Copy before mutating."""
    root = tmp_path_factory.mktemp("registry") / "models"
    reg = Registry(root)
    reg.activate(reg.register(training.train(rows=5000, seed=7)), actor="test")
    reg.register(training.train(rows=5000, seed=7, corruption="labels-shuffled"))
    return root


@pytest.fixture
def lab_state(tmp_path: Path, trained_registry: Path) -> Path:
    """A fresh state dir holding a private copy of the trained registry."""
    state = tmp_path / "state"
    shutil.copytree(trained_registry, state / "models")
    return state


@pytest.fixture
def service(lab_state: Path) -> Iterator[ServiceUnderTest]:
    """The real model service (uvicorn, free loopback port), stopped with SIGTERM afterwards."""
    svc = start_service(lab_state)
    try:
        yield svc
    finally:
        svc.process.stop()


REQUIRED_IN_CI = ("prometheus", "promtool", "prometheus-alertmanager", "amtool")


def pytest_sessionstart(session: pytest.Session) -> None:
    """In CI, a missing monitoring binary must fail the run, not turn the alerting tests into skips."""
    import os

    if os.environ.get("CI"):
        missing = [b for b in REQUIRED_IN_CI if shutil.which(b) is None]
        if missing:
            pytest.exit(f"CI needs {', '.join(missing)}: apt-get install -y prometheus prometheus-alertmanager",
                        returncode=4)


@pytest.fixture(autouse=True, scope="session")
def _wide_cli_console() -> None:
    """In-process CLI tests read rich tables: give the shared consoles one wide, fixed width.

    rich freezes a console's width when it is created (from COLUMNS, else 80), so a test setting COLUMNS later
    has no effect; subprocess-based tests pass COLUMNS in their environment instead.
    """
    from labs.cli import output

    output.console.width = 250
    output.err_console.width = 250
