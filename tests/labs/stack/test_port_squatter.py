"""A process squatting the model service's port during a restart (issue 14, item 9a).

In the lab it served 200s with an empty body to 722 clients: the supervisor's health check took any 200 from
the port for the service, and Prometheus paged only after ModelServiceMetricsAbsent's 5 minutes (31 s in lab
mode). Now the supervisor asks the health answer who it is, names the squatter's pid, and stops its own
child; ``aiops-lab status`` says the same; Prometheus pages within seconds (the fast definition of
ModelServiceMetricsAbsent). One real model service, a real squatter and a real Prometheus; the restart case
is a job of the drill pool (``squatter_job.py``).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from labs.stack.plan import ProcessSpec
from labs.stack.supervisor import Supervisor
from tests.labs.drills.jobs import DrillPool
from tests.labs.stack.squatter_job import JOBS, NAME, squat
from tests.support.lab import Lab
from tests.support.ports import free_port

pytestmark = pytest.mark.integration


@pytest.fixture
def lab(tmp_path: Path, trained_registry: Path) -> Lab:
    state = tmp_path / "state"
    shutil.copytree(trained_registry, state / "models")
    return Lab.create(state)


@pytest.fixture
def squatters() -> Iterator[list[subprocess.Popen]]:
    procs: list[subprocess.Popen] = []
    yield procs
    for proc in procs:
        proc.terminate()
        proc.wait(10)


@pytest.mark.pool(JOBS[0].name)
def test_a_squatter_on_the_service_port_is_named_not_reported_healthy(drill_pool: DrillPool) -> None:
    """The supervisor, ``aiops-lab status`` and a real Prometheus: a job of the drill pool (``squatter_job.py``)."""
    print(drill_pool.outcome(JOBS[0].name))


def test_a_port_held_before_the_start_names_its_holder(lab: Lab, squatters: list[subprocess.Popen]) -> None:
    port = free_port()
    squatter = squat(port, squatters)
    spec = ProcessSpec(NAME, port, [sys.executable, "-m", "model_service"], "/readyz", lab.env)
    sup = Supervisor([spec], "lab", lab.state / "run")
    sup.start(NAME)
    rec = sup.state.components[NAME]
    assert rec.state == "failed" and f"port {port} is already in use by pid {squatter.pid}" in rec.detail
