"""A process squatting the model service's port during a restart (issue 14, item 9a).

In the lab it served 200s with an empty body to 722 clients: the supervisor's health check took any 200 from
the port for the service, and Prometheus paged only after ModelServiceMetricsAbsent's 5 minutes (31 s in lab
mode). Now the supervisor asks the health answer who it is, names the squatter's pid, and stops its own
child; ``aiops-lab status`` says the same; Prometheus pages within seconds (the fast definition of
ModelServiceMetricsAbsent). One real model service, a real squatter and a real Prometheus.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from aiops_core.polling import wait_until
from labs.stack.plan import ProcessSpec
from labs.stack.supervisor import Supervisor, port_in_use
from tests.support.lab import Lab
from tests.support.ports import free_port
from tests.support.prometheus import running_prometheus
from tests.support.speed import scaled

pytestmark = pytest.mark.integration
NAME = "model-service"
# Answers every GET with 200 and no body: what the squatter in the issue did.
SQUATTER = """
import http.server, sys
class Empty(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.send_header("content-length", "0"); self.end_headers()
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Empty).serve_forever()
"""


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


def _squat(port: int, squatters: list[subprocess.Popen]) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", SQUATTER, str(port)])
    squatters.append(proc)
    wait_until(lambda: port_in_use(port), timeout=scaled(10), what=f"the squatter listening on {port}")
    return proc


def test_a_squatter_on_the_service_port_is_named_not_reported_healthy(lab: Lab, tmp_path: Path,
                                                                       squatters: list[subprocess.Popen]) -> None:
    port = free_port()
    spec = ProcessSpec(NAME, port, [sys.executable, "-m", "model_service"], "/readyz",
                       {**lab.env, "AIOPS_PORT": str(port)})
    sup = Supervisor([spec], "lab", lab.state / "run")
    try:
        sup.start(NAME)
        assert sup.wait_healthy(NAME, timeout=scaled(60)), sup.state.components[NAME].detail
        # The restart, with the port taken between the supervisor's port check and the new process's bind:
        # the squatter starts while the service's interpreter is still importing.
        sup.stop(NAME)
        sup.start(NAME)
        child = sup.procs[NAME]
        squatter = _squat(port, squatters)
        assert not sup.wait_healthy(NAME, timeout=scaled(60))
        rec = sup.state.components[NAME]
        assert rec.state == "failed"
        assert f"pid {squatter.pid}" in rec.detail and "aiops-lab service restart model-service" in rec.detail
        assert child.poll() is not None  # our own start-up attempt was stopped, not left to fail later

        # 'aiops-lab status' tells the squatter from the service too (the supervisor's record says
        # "failed"; status checks again now, as a learner would after a manual start).
        sup.state.components[NAME].state = "healthy"
        sup._save()
        status = lab.cli("status", "--json", timeout=scaled(60))
        assert status.returncode == 1, status.stdout + status.stderr
        seen = json.loads(status.stdout)["components"][NAME]
        assert seen["state"] == "impostor" and f"kill {squatter.pid}" in seen["detail"], seen

        # Prometheus: the squatter answers its scrapes (up == 1) with no series; the page comes in seconds.
        with running_prometheus(tmp_path / "prom", {NAME: f"127.0.0.1:{port}"}) as prom:
            wait_until(lambda: prom.vector('ALERTS{alertname="ModelServiceMetricsAbsent",alertstate="firing",'
                                           'reason="wrong-process"}'),
                       timeout=20, interval=0.5, what="ModelServiceMetricsAbsent within seconds of the squatter")
    finally:
        sup.stop_all()


def test_a_port_held_before_the_start_names_its_holder(lab: Lab, squatters: list[subprocess.Popen]) -> None:
    port = free_port()
    squatter = _squat(port, squatters)
    spec = ProcessSpec(NAME, port, [sys.executable, "-m", "model_service"], "/readyz", lab.env)
    sup = Supervisor([spec], "lab", lab.state / "run")
    sup.start(NAME)
    rec = sup.state.components[NAME]
    assert rec.state == "failed" and f"port {port} is already in use by pid {squatter.pid}" in rec.detail
