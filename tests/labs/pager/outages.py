"""The alert path's own outages, on a real lab in lab mode (``aiops-lab up`` on free ports):

* ``kill -9`` the pager: noticed within 60 s by a channel that does not need the pager (``aiops-lab pager
  watch``, reading the pager, Alertmanager and Prometheus directly), and on the pager's timeline once it is
  back (PagerDown, held by keep_firing_for until Alertmanager's retry delivers it);
* ``SIGSTOP`` Prometheus: the pager's dead-man's switch pages within 90 s (the lab-mode resend delay lets
  Alertmanager drop the Watchdog 20 s after Prometheus stops; the pager's timeout is 30 s in lab mode).

Each is the last job of one of the drill pool's labs (``tests/labs/drills/pool.py``); each first waits for a healthy
alert path.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from typing import Any

import httpx

from aiops_core import http as lab_http
from aiops_core.polling import wait_until
from labs.pager.heartbeat import ALERTNAME as HEARTBEAT_MISSING
from tests.labs.drills.lab import Lab
from tests.labs.drills.pool import Job
from tests.support.lab import CLI
from tests.support.speed import scaled

NOTICE_DEADLINE_S = 60.0  # a dead pager, noticed outside it (issue 14)
PAGE_DEADLINE_S = 90.0  # a hung Prometheus, paged (issue 14, lab mode)


def _component(lab: Lab, name: str) -> dict[str, Any]:
    return json.loads((lab.state / "run" / "lab.json").read_text())["components"][name]


def _answers(url: str) -> bool:
    try:
        return lab_http.get(url, timeout=3).status_code == 200
    except httpx.HTTPError:
        return False


def _heartbeat_healthy(lab: Lab) -> bool:
    return bool(lab_http.get(lab.url("pager") + "/heartbeat", timeout=3).json()["healthy"])


def _pages(lab: Lab, alertname: str, since: float) -> list[dict[str, Any]]:
    return lab_http.get(lab.url("pager") + "/pages", params={"alertname": alertname, "since": f"{since:.3f}"},
                        timeout=3).json()


def _path_ok(lab: Lab) -> bool:
    """``aiops-lab pager watch --once``: True when it finds nothing wrong (exit 0), False on findings (1)."""
    done = lab.cli("pager", "watch", "--once", timeout=60)
    assert done.returncode in (0, 1), f"pager watch --once failed to run:\n{done.stdout}{done.stderr}"
    return done.returncode == 0


def killed_pager(lab: Lab) -> None:
    wait_until(lambda: _path_ok(lab), timeout=scaled(120), interval=2, what="a healthy alert path")
    out = lab.state / "watch.out"
    with out.open("wb") as sink:
        watch = subprocess.Popen([*CLI, "pager", "watch", "--interval", "2s", "--for", "240s"], env=lab.env,
                                 stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                 start_new_session=True)
    since = time.time()
    try:
        wait_until(lambda: "alert path OK" in out.read_text(), timeout=scaled(30), what="the watch's first check")
        pager = _component(lab, "pager")
        os.kill(pager["pid"], signal.SIGKILL)
        killed = time.monotonic()

        def noticed() -> bool:
            if watch.poll() is not None:
                raise AssertionError(f"pager watch exited ({watch.returncode}):\n{out.read_text()}")
            text = out.read_text()
            return f"the pager at {pager['url']} does not answer" in text and "PagerDown fires in Alertmanager" in text

        wait_until(noticed, timeout=NOTICE_DEADLINE_S, interval=0.5, what="pager watch noticing the dead pager")
        took = time.monotonic() - killed
        text = out.read_text()
        assert "\a" in text, "a new problem rings the terminal bell"
        once = lab.cli("pager", "watch", "--once", timeout=60)
        assert once.returncode == 1 and "does not answer" in once.stdout, once.stdout + once.stderr
        print(f"kill -9 pager -> noticed outside it (direct and PagerDown in Alertmanager): {took:.1f}s")

        restarted = lab.cli("service", "restart", "pager", timeout=120)
        assert restarted.returncode == 0, restarted.stdout + restarted.stderr
        # Not lost: once the pager answers, Alertmanager's retry delivers the page it could not deliver before.
        [page] = wait_until(lambda: _pages(lab, "PagerDown", since), timeout=60, interval=1,
                            what="the PagerDown page on the restarted pager's timeline")
        assert page["severity"] == "page" and page["runbook_url"] == "runbooks/PagerDown.md"
        wait_until(lambda: "cleared: the pager at" in out.read_text(), timeout=scaled(30), what="the watch clearing")
    finally:
        if watch.poll() is None:
            os.killpg(watch.pid, signal.SIGTERM)
            watch.wait(10)
        if not _answers(lab.url("pager") + "/healthz"):  # an assertion failed above: leave the lab a pager
            lab.cli("service", "restart", "pager", timeout=120)


def hung_prometheus(lab: Lab) -> None:
    wait_until(lambda: _heartbeat_healthy(lab), timeout=scaled(90), interval=1, what="a recent Watchdog heartbeat")
    since = time.time()
    prometheus = _component(lab, "prometheus")["pid"]
    os.kill(prometheus, signal.SIGSTOP)
    hung = time.monotonic()
    try:
        [page] = wait_until(lambda: [p for p in _pages(lab, HEARTBEAT_MISSING, since) if p["status"] == "firing"],
                            timeout=PAGE_DEADLINE_S, interval=1, what=f"the {HEARTBEAT_MISSING} page")
        took = time.monotonic() - hung
        print(f"SIGSTOP Prometheus -> {HEARTBEAT_MISSING} page: {took:.1f}s")
        assert page["severity"] == "page"
    finally:
        os.kill(prometheus, signal.SIGCONT)
    wait_until(lambda: _pages(lab, HEARTBEAT_MISSING, since)[0]["status"] == "resolved", timeout=scaled(60),
               interval=1, what="the page resolving once Prometheus runs again")


# Last jobs of their labs: the pages they cause (PagerDown is held by keep_firing_for) would be the first page
# of a drill played next on the same lab.
JOBS = [Job("pager killed: noticed outside it, recorded after its restart", killed_pager, cost_s=90, last=True),
        Job("prometheus hung: paged within 90 s", hung_prometheus, cost_s=100, last=True)]
