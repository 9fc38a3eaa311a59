"""A drill check on a real Prometheus that was restarted: the old target's ``up`` series outlives it.

Prometheus writes no staleness markers when it shuts down (it expects to come back), so after a restart
the last ``up`` sample of a target that is no longer configured stays visible for the 5-minute lookback.
A learner who fixed monitoring-blind-spot's scrape target and restarted Prometheus saw ``drill check`` fail
for 5 minutes on ``min(up{job="model-service"})``. The checks select the targets scraped in the last
seconds instead, so the fix is credited within the check's hold plus a few scrapes.

A job of the drill pool: it starts a Prometheus of its own and mostly waits for it to scrape (26 s in the
foreground), so it waits beside the pool's drills instead. ``test_checks_after_restart.py`` reports it.
"""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler
from pathlib import Path

from aiops_core.polling import wait_until
from aiops_core.prometheus import Prometheus
from labs.drills import catalogue, checks
from labs.drills.schema import PromCheck
from monitoring import render
from tests.labs.drills.lab import Lab, borrowed_dir
from tests.labs.drills.pool import Job
from tests.support.http_server import serving
from tests.support.lab import lab_environment
from tests.support.ports import free_port
from tests.support.processes import ManagedProcess
from tests.support.speed import scaled


class _Metrics(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"# TYPE aiops_up gauge\naiops_up 1\n"
        self.send_response(200)
        self.send_header("content-type", "text/plain; version=0.0.4")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def restart_leaves_a_stale_up_series_that_the_check_ignores(lab: Lab) -> str:
    """Its own Prometheus and scrape target, in a directory beside the lab's state (the lab is not used)."""
    tmp_path = borrowed_dir(lab, "restart-check", models=False)
    with serving(_Metrics) as url:
        return _play(tmp_path, url.removeprefix("http://"))


def _play(tmp_path: Path, healthy_target: str) -> str:
    port = free_port()
    prom = Prometheus(f"http://127.0.0.1:{port}", timeout=5.0)

    def run(target: str) -> ManagedProcess:
        targets = {"model-service": target, "prometheus": f"127.0.0.1:{port}"}
        rendered = render.render(tmp_path / "config", targets=targets, pager_url=f"http://127.0.0.1:{free_port()}",
                                 lab_mode=True)
        proc = ManagedProcess(render.prometheus_command(rendered.prometheus_yml, tmp_path / "tsdb", port),
                              lab_environment(tmp_path / "state"), tmp_path / "prometheus.log").start()
        wait_until(prom.ready, timeout=scaled(30), what="prometheus ready")
        return proc

    broken = run(f"127.0.0.1:{free_port()}")  # the drill's fault: a port nothing listens on
    try:
        wait_until(lambda: prom.value('min(up{job="model-service"})') == 0, timeout=scaled(30),
                   what="up == 0 for the broken target")
    finally:
        broken.stop()
    fixed = run(healthy_target)  # the learner's fix, applied with a restart instead of a reload
    try:
        wait_until(lambda: prom.value(f'up{{job="model-service",instance="{healthy_target}"}}') == 1,
                   timeout=scaled(30), what="the fixed target scraped")
        assert prom.value('min(up{job="model-service"})') == 0, "the old target's up series is still visible"
        check = next(c for c in catalogue.get("monitoring-blind-spot").checks if isinstance(c, PromCheck))
        passed = wait_until(lambda: (r := checks.promql(check, prom)).passed and r,
                            timeout=scaled(check.hold + 30), interval=1.0, what=f"{check.name} to pass")
        assert "held == 1" in passed.detail
        # ... while the stale series was still there: the old query would have kept failing for minutes.
        assert prom.value('min(up{job="model-service"})') == 0
    finally:
        fixed.stop()
    return passed.detail


JOBS = [Job("a restarted Prometheus's stale up series is ignored by the check",
            restart_leaves_a_stale_up_series_that_the_check_ignores, cost_s=30, beside_heavy=True, uses_lab=False)]
