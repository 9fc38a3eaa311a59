"""A process squatting the model service's port during a restart (issue 14, item 9a): the supervisor names the
squatter's pid and stops its own child, ``aiops-lab status`` says "impostor", and Prometheus pages within
seconds (the fast definition of ModelServiceMetricsAbsent).

A job of the drill pool, beside its heavy jobs: it mostly waits (a service start, a health check's timeout,
scrapes: 15 s, 2 CPU-s alone) on processes of its own. ``test_port_squatter.py`` reports it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from aiops_core.polling import wait_until
from labs.stack.plan import ProcessSpec
from labs.stack.supervisor import Supervisor, port_in_use
from tests.labs.drills.lab import Lab as PoolLab
from tests.labs.drills.lab import borrowed_dir
from tests.labs.drills.pool import Job
from tests.support.lab import Lab
from tests.support.ports import free_port
from tests.support.prometheus import running_prometheus
from tests.support.speed import scaled

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


def squat(port: int, squatters: list[subprocess.Popen]) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", SQUATTER, str(port)])
    squatters.append(proc)
    wait_until(lambda: port_in_use(port), timeout=scaled(10), what=f"the squatter listening on {port}")
    return proc


def squatter_named(pool_lab: PoolLab) -> str:
    """A private state dir (the session's trained models) beside the pool lab's; the lab itself is not used."""
    work = borrowed_dir(pool_lab, "port-squatter")
    squatters: list[subprocess.Popen] = []
    try:
        return _squatter_named(Lab.create(work / "state"), work, squatters)
    finally:
        for proc in squatters:
            proc.terminate()
            proc.wait(10)


def _squatter_named(lab: Lab, tmp_path: Path, squatters: list[subprocess.Popen]) -> str:
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
        squatter = squat(port, squatters)
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
    return f"squatter pid {squatter.pid} named by the supervisor, status and Prometheus"


JOBS = [Job("stack: a squatter on the service port is named, not reported healthy", squatter_named, cost_s=25,
            beside_heavy=True, uses_lab=False)]
