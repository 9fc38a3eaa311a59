"""The drift monitor's ``POST /run`` (seconds of CPU, a report written) accepts only the lab's own callers;
its reads stay open. The real monitor process (``python -m monitoring.drift``) on a free port."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from aiops_core import http as lab_http
from aiops_core.polling import wait_until
from tests.support.processes import ADMIN_TOKEN, ManagedProcess, free_port, lab_env
from tests.support.speed import scaled

pytestmark = pytest.mark.integration


def _start(state: Path, **env: str) -> tuple[ManagedProcess, str]:
    port = free_port()
    proc = ManagedProcess([sys.executable, "-m", "monitoring.drift"],
                          lab_env(state, AIOPS_DRIFT_MONITOR_PORT=str(port), AIOPS_DRIFT_INTERVAL_S="3600", **env),
                          state / f"drift-{port}.log").start()
    url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        if proc.proc is not None and proc.proc.poll() is not None:
            raise AssertionError(f"drift monitor exited:\n{proc.output()[-3000:]}")
        return lab_http.get(url + "/healthz", timeout=1.0).status_code == 200

    wait_until(healthy, timeout=scaled(30), what="drift monitor /healthz")
    return proc, url


def test_run_needs_the_lab_token_and_reads_stay_open(lab_state: Path) -> None:
    proc, url = _start(lab_state, AIOPS_ADMIN_TOKEN=ADMIN_TOKEN)
    try:
        # The monitor runs once by itself a second after it starts (then hourly here): wait for that run, so
        # "the refused calls ran nothing" compares against it. (Asserting no run at all raced that first run
        # on a slow CI machine, stop 25.)
        scheduled = wait_until(lambda: lab_http.get(url + "/healthz", timeout=5).json()["last_run"],
                               timeout=scaled(30), what="the monitor's own first run")
        anonymous = lab_http.post(url + "/run", timeout=10)
        assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"] == "Bearer"
        assert anonymous.json()["detail"].startswith("authorization: POST /run accepts only the lab's own callers")
        assert "admin-token" in anonymous.json()["detail"]
        forged = lab_http.post(url + "/run", headers={"Authorization": "Bearer forged-token-0123456789"}, timeout=10)
        assert forged.status_code == 403 and "bearer token is wrong" in forged.json()["detail"]
        assert lab_http.get(url + "/healthz", timeout=5).json()["last_run"] == scheduled, "a refused run ran"

        ran = lab_http.post(url + "/run", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=120)
        assert ran.status_code == 200, ran.text
        assert lab_http.get(url + "/healthz", timeout=5).json()["last_run"]["outcome"] == ran.json()["outcome"]
        for path in ("/metrics", "/reports", "/reports/index.json"):
            assert lab_http.get(url + path, timeout=10).status_code == 200, path
    finally:
        proc.stop()


def test_a_monitor_without_a_token_refuses_every_run(lab_state: Path) -> None:
    proc, url = _start(lab_state)  # no AIOPS_ADMIN_TOKEN and no admin-token file in the state dir
    try:
        refused = lab_http.post(url + "/run", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=10)
        assert refused.status_code == 403 and "POST /run is disabled" in refused.json()["detail"]
    finally:
        proc.stop()
