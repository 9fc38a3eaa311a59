"""A real Alertmanager (the Debian binary) on a free port, with the lab-mode config the launcher renders."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from aiops_core import http as lab_http
from aiops_core.polling import wait_until
from monitoring import render
from tests.support.isolation import session_environment
from tests.support.ports import free_port
from tests.support.processes import ManagedProcess
from tests.support.speed import scaled


@contextlib.contextmanager
def running_alertmanager(tmp_path: Path, pager_url: str) -> Iterator[str]:
    """Alertmanager delivering to ``pager_url``; yields its base URL. Skips when it is not installed."""
    if shutil.which("prometheus-alertmanager") is None and shutil.which("alertmanager") is None:
        pytest.skip("Alertmanager is not installed; install it with: sudo apt-get install -y prometheus-alertmanager")
    port = free_port()
    rendered = render.render(tmp_path / "am-config", targets={"alertmanager": f"127.0.0.1:{port}"},
                             pager_url=pager_url, lab_mode=True)
    proc = ManagedProcess(render.alertmanager_command(rendered.alertmanager_yml, tmp_path / "am-data", port),
                          session_environment(), tmp_path / "alertmanager.log").start()
    try:
        def ready() -> bool:
            if proc.proc is not None and proc.proc.poll() is not None:
                raise AssertionError(f"alertmanager exited:\n{proc.output()[-3000:]}")
            return lab_http.get(render.ready_url(port), timeout=1.0).status_code == 200

        wait_until(ready, timeout=scaled(30), what="alertmanager ready")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.stop()
