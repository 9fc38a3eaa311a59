"""Fixtures for the curriculum: a private state dir, the ``aiops-lab`` CLI in-process, and ONE shared lab.

The lab (``aiops-lab up -d`` on free ports) is started once and shared by every live test: starting it
costs ~10 s, and the checks only need it running. Tests that must not see each other's progress use
different curriculum modules (each module has its own progress and workspace).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.lab import Lab as PrivateLab
from tests.support.lab import normal, running_lab

__all__ = ["Lab", "normal"]


class Lab(PrivateLab):
    """A private lab with the curriculum's view: a workspace per module."""

    def workspace(self, module: str) -> Path:
        return self.state / "workspace" / module

    def subprocess(self, *args: str, timeout: float = 240):  # type: ignore[no-untyped-def]
        return self.cli(*args, timeout=timeout)


@pytest.fixture
def offline(tmp_path: Path) -> Lab:
    """A state dir with no lab running (every component's port is free)."""
    return Lab.create(tmp_path / "state")


@pytest.fixture(scope="module")
def live_lab(tmp_path_factory: pytest.TempPathFactory, trained_registry: Path) -> Iterator[Lab]:
    """One real lab per test module (only test_live.py uses it): service, Prometheus, Alertmanager, drift, pager.

    Module scope, not session: the lab stops as soon as its tests are done instead of idling (scraping every
    2 s, running drift reports) through the rest of the suite.
    """
    with running_lab(tmp_path_factory.mktemp("curriculum-lab") / "state", trained_registry, Lab) as lab:
        yield lab
