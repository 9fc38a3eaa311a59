"""Fixtures for the monitoring tests: the Prometheus tool binaries and rendered configurations."""

from __future__ import annotations

import shutil

import pytest

from aiops_core.topology import BY_NAME, LOOPBACK, PAGER
from monitoring import render
from monitoring.binaries import APT_INSTALL

# Where the native lab's components listen by default (aiops_core/topology.py).
TARGETS = {job: f"{LOOPBACK}:{BY_NAME[job].default_port}" for job in render.JOBS}
PAGER_URL = f"http://{LOOPBACK}:{PAGER.default_port}"


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed; install it with: {APT_INSTALL}")
    return path


@pytest.fixture(scope="session")
def promtool() -> str:
    return _tool("promtool")


@pytest.fixture(scope="session")
def amtool() -> str:
    return _tool("amtool")


@pytest.fixture(scope="session", params=[False, True], ids=["production", "lab"])
def rendered(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> render.Rendered:
    """The effective configuration in both modes, rendered once per session."""
    out = tmp_path_factory.mktemp("lab-config" if request.param else "prod-config")
    return render.render(out, targets=TARGETS, pager_url=PAGER_URL, lab_mode=request.param)


@pytest.fixture(scope="session")
def lab_rendered(tmp_path_factory: pytest.TempPathFactory) -> render.Rendered:
    return render.render(tmp_path_factory.mktemp("lab-only"), targets=TARGETS, pager_url=PAGER_URL, lab_mode=True)
