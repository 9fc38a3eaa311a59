"""A private native lab (``aiops-lab up -d`` on free ports, its own state dir), driven through the real CLI.

Each lab remembers the last CLI commands it ran and what they printed, so a failing drill reports what the
learner would have seen, not only the assertion that tripped.
"""

from __future__ import annotations

import collections
import json
import shlex
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiops_core import http as lab_http
from aiops_core.polling import wait_until
from labs.drills import lab_state, rehearse
from tests.support.lab import Lab as PrivateLab
from tests.support.lab import allocate_ports, lab_environment

__all__ = ["Lab", "allocate_ports", "borrowed_dir", "for_this_lab", "start_lab"]

HISTORY = 8  # CLI outputs kept for a failure message
OUTPUT_TAIL = 1500  # characters of each kept output


@dataclass
class Lab(PrivateLab):
    name: str = ""
    baseline_prometheus_yml: str = ""
    history: collections.deque[str] = field(default_factory=lambda: collections.deque(maxlen=HISTORY))
    ran: list[str] = field(default_factory=list)  # drill ids started on this lab, in order
    passed: list[str] = field(default_factory=list)  # drill ids whose check passed on this lab
    traffic_stopped_at: float | None = None  # when the last drill's traffic stopped (None: never had any)
    flooded_until: float = 0.0  # a heavy job's thousands of requests dilute ratio pages until then (pool.py)
    seed_registry: Path | None = None  # the session's trained models the lab started with (copy to use them)

    def cli(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        started = time.monotonic()
        try:
            done = super().cli(*args, timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            self._remember(args, "timeout", str(exc.stdout or ""), str(exc.stderr or ""), started)
            raise AssertionError(f"aiops-lab {shlex.join(args)} did not finish within {timeout:.0f}s") from None
        self._remember(args, str(done.returncode), done.stdout, done.stderr, started)
        return done

    def _remember(self, args: tuple[str, ...], rc: str, out: str, err: str, started: float) -> None:
        text = (out + ("\n[stderr] " + err if err.strip() else "")).strip()
        self.history.append(f"$ aiops-lab {shlex.join(args)}   (exit {rc}, {time.monotonic() - started:.1f}s, "
                            f"at {time.strftime('%H:%M:%S')})\n{text[-OUTPUT_TAIL:]}")

    def recent_output(self) -> str:
        return "\n\n".join(self.history)

    def journal(self) -> dict[str, Any] | None:
        path = self.state / "drills" / "current.json"
        return json.loads(path.read_text()) if path.is_file() else None

    def pages_since(self, since: float) -> list[dict[str, Any]]:
        return lab_http.get(self.url("pager") + "/pages", params={"since": since}, timeout=5).json()

    def flags(self) -> dict[str, Any]:
        return lab_http.get(self.url("model-service") + "/admin/config", headers=self.admin, timeout=10).json()["flags"]

    def active_model(self) -> str:
        return lab_http.get(self.url("model-service") + "/readyz", timeout=5).json()["model_version"]

    def unhealthy(self) -> list[str]:
        """Components of the lab that do not answer their health check now (what ``aiops-lab status`` shows,
        without a CLI process)."""
        return lab_state.unhealthy(self)

    def alerts(self) -> list[dict[str, Any]]:
        """Alerts Prometheus holds now (pending or firing)."""
        body = lab_http.get(self.url("prometheus") + "/api/v1/alerts", timeout=5).json()
        return list(body["data"]["alerts"])

    def page_alert_names(self) -> set[str]:
        """Names of the page-severity alerts Prometheus holds now (pending or firing): what keeps a drill
        expecting one of them from paging, and what ``drill start`` refuses to start over. A leftover
        *ticket* of the same name does not (labs/drills/preflight.py): the slowest burn-rate window's ticket
        stays firing ~30 min after a 3-min error burst, and waiting for it timed a rehearsal out after 917 s."""
        return {a["labels"].get("alertname", "") for a in self.alerts() if a["labels"].get("severity") == "page"}


def start_lab(name: str, state: Path, ports: dict[str, str]) -> Lab:
    lab = Lab(lab_environment(state, ports), name=name)
    lab.up()
    wait_until(lambda: any(t["labels"].get("job") == "model-service" and t["health"] == "up"
                           for t in lab.prometheus_targets()),
               timeout=60, what=f"{name}: prometheus scraping the model service")
    lab.baseline_prometheus_yml = (state / "run" / "config" / "prometheus.yml").read_text()
    return lab


def borrowed_dir(lab: Lab, name: str, binaries: tuple[str, ...] = ("prometheus",), models: bool = True) -> Path:
    """A fresh directory beside the pool lab's state, for a job that runs processes of its own there
    (``uses_lab=False``); with ``models``, ``<dir>/state/models`` is a copy of the session's trained models.
    Raises ``Skipped`` naming the apt command when one of ``binaries`` is not installed."""
    from monitoring.binaries import APT_INSTALL
    from tests.labs.drills.pool import Skipped

    for binary in binaries:
        if shutil.which(binary) is None:
            raise Skipped(f"{binary} is not installed; install it with: {APT_INSTALL}")
    work = lab.state.parent / name
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    if models:
        assert lab.seed_registry is not None, "the pool gives every lab the session's trained models"
        shutil.copytree(lab.seed_registry, work / "state" / "models")
    return work


def for_this_lab(lab: Lab, line: str) -> str:
    """Docs use the default ports and ``.lab/``; a test lab runs on free ports in a temp state dir."""
    return rehearse.on_this_lab(lab, line)
