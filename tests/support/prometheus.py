"""A real Prometheus (the Debian binary) on a free port, with the lab-mode configuration the launcher renders,
scraping whatever the test started; queried with the lab's own client (``aiops_core.prometheus``)."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from aiops_core import http as lab_http
from aiops_core.polling import wait_until
from aiops_core.prometheus import Prometheus
from monitoring import render
from monitoring.binaries import APT_INSTALL
from tests.support.lab import lab_environment
from tests.support.ports import free_port
from tests.support.processes import ManagedProcess
from tests.support.speed import scaled


class TestPrometheus(Prometheus):
    """The lab's client, plus the port (runbook commands are rewritten to it)."""

    __test__ = False  # not a test class, whatever its name says

    def __init__(self, port: int, http: httpx.Client) -> None:
        super().__init__(f"http://127.0.0.1:{port}", http=http)
        self.port = port
        self.url = self.base_url


@contextlib.contextmanager
def running_prometheus(tmp_path: Path, targets: dict[str, str]) -> Iterator[TestPrometheus]:
    """Prometheus scraping ``targets`` (job -> host:port, plus itself), rules and intervals as in lab mode.

    No Alertmanager target: Prometheus evaluates alerts (``ALERTS``) but sends them nowhere."""
    if shutil.which("prometheus") is None:
        pytest.skip(f"prometheus is not installed; install it with: {APT_INSTALL}")
    port = free_port()
    rendered = render.render(tmp_path / "config", targets={**targets, "prometheus": f"127.0.0.1:{port}"},
                             pager_url=f"http://127.0.0.1:{free_port()}", lab_mode=True)
    proc = ManagedProcess(render.prometheus_command(rendered.prometheus_yml, tmp_path / "tsdb", port),
                          lab_environment(tmp_path / "state"), tmp_path / "prometheus.log").start()
    http = lab_http.new_client(timeout=10.0)  # keep-alive: tests send hundreds of queries
    try:
        def ready() -> bool:
            if proc.proc is not None and proc.proc.poll() is not None:
                raise AssertionError(f"prometheus exited:\n{proc.output()[-3000:]}")
            return http.get(render.ready_url(port), timeout=1.0).status_code == 200

        wait_until(ready, timeout=scaled(30), what="prometheus ready")
        prom = TestPrometheus(port, http)
        wait_until(lambda: len(prom.vector("up == 1")) == len(targets) + 1, timeout=scaled(30),
                   what=f"prometheus scraping {', '.join(targets)}")
        yield prom
    finally:
        http.close()
        proc.stop()
