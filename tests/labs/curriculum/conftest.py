"""Fixtures for the curriculum: a private state dir and the ``aiops-lab`` CLI in-process. The live modules play
on a lab of the drill pool (``live_job.py``, ``capacity_job.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.lab import Lab as PrivateLab
from tests.support.lab import normal

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
