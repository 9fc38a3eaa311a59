"""One error hierarchy: every domain error a learner can meet is a ``LabError`` with a fitting exit status,
and the CLI turns it into ``error: ...`` and that status, in a subprocess and under click's test runner."""

from __future__ import annotations

from pathlib import Path

import pytest

from aiops_core.durations import DurationError
from aiops_core.errors import ExitStatus, LabError
from aiops_core.prometheus import PromUnavailable, QueryError
from aiops_core.settings import SettingsError
from labs.drills.catalogue import CatalogueError
from labs.drills.faults import FaultError
from labs.drills.upstream import UpstreamError
from labs.runtime.base import RuntimeError_
from labs.traffic_feed.remote import ControlError
from model_service.registry import RegistryError
from monitoring.binaries import MonitoringBinaryMissing
from monitoring.drift.config import DriftConfigError
from monitoring.drift.reference import NoActiveModel
from monitoring.drift.window import LogUnavailable
from tests.support.lab import Lab


@pytest.mark.parametrize(("error", "status"), [
    (RegistryError, ExitStatus.CONFLICT), (NoActiveModel, ExitStatus.CONFLICT), (UpstreamError, ExitStatus.CONFLICT),
    (LogUnavailable, ExitStatus.NOT_RUNNING), (PromUnavailable, ExitStatus.NOT_RUNNING),
    (MonitoringBinaryMissing, ExitStatus.MISSING_DEPENDENCY), (RuntimeError_, ExitStatus.CHECK_FAILED),
    (CatalogueError, ExitStatus.USAGE), (DriftConfigError, ExitStatus.USAGE), (SettingsError, ExitStatus.USAGE),
    (DurationError, ExitStatus.USAGE), (QueryError, ExitStatus.USAGE), (ControlError, ExitStatus.USAGE),
    (FaultError, ExitStatus.USAGE),
])
def test_domain_errors_are_lab_errors_with_their_status(error: type[LabError], status: ExitStatus) -> None:
    raised = error("what is wrong; run: aiops-lab something")
    assert isinstance(raised, LabError) and not hasattr(LabError, "show")  # no click in the core
    assert raised.status == status and raised.exit_code == int(status)
    assert raised.message == "what is wrong; run: aiops-lab something"


def test_a_domain_error_becomes_the_cli_exit_status_in_process(tmp_path: Path) -> None:
    lab = Lab.create(tmp_path / "state")
    unknown = lab.run("model", "deploy", "v99")  # RegistryError from deep inside, no CLI translation
    assert unknown.exit_code == ExitStatus.CONFLICT and "v99" in unknown.text, unknown.output
    down = lab.run("pager", "list")  # NotRunning from the HTTP client: nothing listens on this lab's port
    assert down.exit_code == ExitStatus.NOT_RUNNING and "aiops-lab up" in down.text, down.output


@pytest.mark.integration
def test_the_cli_entry_point_prints_the_error_and_exits_with_its_status(tmp_path: Path) -> None:
    """``aiops-lab`` as a learner runs it: ``main()``, not click's test runner."""
    done = Lab.create(tmp_path / "state").cli("pager", "list", "--since", "soon")
    assert done.returncode == ExitStatus.USAGE, done.stdout + done.stderr
    assert done.stderr.startswith("error: --since 'soon' is not a duration") and "Traceback" not in done.stderr
