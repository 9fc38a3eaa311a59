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


def test_a_domain_error_becomes_the_cli_exit_status(tmp_path: Path) -> None:
    lab = Lab.create(tmp_path / "state")
    unknown = lab.cli("model", "deploy", "v99")  # RegistryError from deep inside, no CLI translation
    assert unknown.returncode == ExitStatus.CONFLICT, unknown.stdout + unknown.stderr
    assert unknown.stderr.startswith("error: ") and "v99" in unknown.stderr and "Traceback" not in unknown.stderr
    in_process = lab.run("pager", "list", "--since", "soon")
    assert in_process.exit_code == ExitStatus.USAGE and "--since 'soon' is not a duration" in in_process.text
