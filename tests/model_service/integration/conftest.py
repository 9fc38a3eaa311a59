"""Module-scoped services: tests that do not depend on each other's state share one process per module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.model_service.integration.launcher import fresh_state, launch
from tests.support.processes import ServiceUnderTest

# Long enough that a prediction is reliably still in the write buffer when its feedback arrives.
SLOW_FLUSH_MS = "2000"


@pytest.fixture(scope="module")
def module_state(tmp_path_factory: pytest.TempPathFactory, trained_registry: Path) -> Path:
    return fresh_state(trained_registry, tmp_path_factory.mktemp("svc"))


@pytest.fixture(scope="module")
def api(module_state: Path) -> Iterator[ServiceUnderTest]:
    """One real service for the whole module (v1 active, admin token set, slow log flush)."""
    svc = launch(module_state, AIOPS_LOG_FLUSH_MS=SLOW_FLUSH_MS)
    try:
        yield svc
    finally:
        svc.process.stop()
