"""``aiops-lab up`` / ``status`` / ``up`` again / ``service restart`` / ``status`` without Alertmanager /
``down``, on a real lab.

A job of the drill pool: the pool's worker brought its lab up with ``aiops-lab up -d`` on free ports (and
waited for Prometheus to scrape the service), so this job checks what ``up`` left behind, then restarts the
service, kills Alertmanager and stops the lab -- the last thing that lab does. ``test_lifecycle.py`` reports
the outcome.
"""

from __future__ import annotations

import json
import os
import signal
from datetime import UTC, datetime, timedelta

import httpx

from aiops_core import http as lab_http
from aiops_core.http import health_problem
from aiops_core.polling import wait_until
from aiops_core.runstate import pid_alive
from tests.labs.drills.lab import Lab
from tests.labs.drills.pool import Job
from tests.labs.stack.links import links_answer
from tests.support.lab import normal
from tests.support.speed import scaled


def _lab_json(lab: Lab) -> dict:
    return json.loads((lab.state / "run" / "lab.json").read_text())


def up_status_restart_down(lab: Lab) -> None:
    record = _lab_json(lab)
    states = {name: c["state"] for name, c in record["components"].items()}
    for required in ("model-service", "prometheus", "alertmanager"):
        assert states[required] == "healthy", states
    assert states["grafana"] in ("skipped", "healthy")
    svc = record["components"]["model-service"]
    assert svc["port"] == lab.port("model-service")
    assert lab_http.get(svc["url"] + "/readyz", timeout=5).json()["model_version"] == "v1"
    assert any(t["labels"].get("job") == "model-service" and t["health"] == "up" for t in lab.prometheus_targets())

    status = lab.cli("status", "--json")
    assert status.returncode == 0, status.stdout + status.stderr
    assert json.loads(status.stdout)["components"]["model-service"]["state"] == "healthy"
    links_answer(lab)  # issue 13: every URL the README and status give answers 200 with Debian's binaries

    again = lab.cli("up", "-d")
    assert again.returncode == 5 and "already running" in again.stderr

    old_pid = svc["pid"]
    restarted = lab.cli("service", "restart")
    assert restarted.returncode == 0, restarted.stdout + restarted.stderr
    new_pid = _lab_json(lab)["components"]["model-service"]["pid"]
    assert new_pid != old_pid and not pid_alive(old_pid)
    assert lab_http.get(svc["url"] + "/readyz", timeout=5).status_code == 200

    silences_are_shown(lab, record["components"]["alertmanager"]["url"])
    alertmanager_down_is_reported_as_a_pipeline_down(lab)

    pids = [c.get("pid") for c in _lab_json(lab)["components"].values()]
    stopped = lab.cli("down")
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert not (lab.state / "run" / "lab.json").exists()
    for pid in pids:
        assert pid is None or not pid_alive(pid), f"pid {pid} survived 'aiops-lab down'"
    after = lab.cli("status")
    assert after.returncode == 3 and "aiops-lab up" in after.stderr


def silences_are_shown(lab: Lab, am_url: str) -> None:
    """Issue 12: a silence on an alert was invisible in status; now it is listed with what it mutes."""
    now = datetime.now(UTC)
    body = {"matchers": [{"name": "alertname", "value": "Watchdog", "isRegex": False, "isEqual": True}],
            "startsAt": now.isoformat(), "endsAt": (now + timedelta(minutes=30)).isoformat(),
            "createdBy": "round-trip", "comment": "muting the heartbeat"}
    silence_id = lab_http.post(am_url + "/api/v2/silences", json=body, timeout=10).json()["silenceID"]
    try:
        def shown() -> dict:
            out = lab.cli("status", "--json").stdout
            data = json.loads(out)
            listed = next((x for x in data["silences"] if x["id"] == silence_id), None)
            assert listed is not None, out  # Alertmanager answered the POST: the silence exists right away
            return listed if listed["muting"] else {}

        listed = wait_until(shown, timeout=scaled(30), interval=1.0, what="status to list the silence muting Watchdog")
        assert listed["muting"] == ["Watchdog"] and listed["createdBy"] == "round-trip"
        text = normal(lab.cli("status").stdout)
        assert "active silences" in text and silence_id in text and "Watchdog" in text, text
    finally:
        httpx.delete(f"{am_url}/api/v2/silence/{silence_id}", timeout=10)


def _watchdog_firing(lab: Lab) -> bool:
    alerts = lab_http.get(lab.url("prometheus") + "/api/v1/alerts", timeout=5).json()["data"]["alerts"]
    return any(a["labels"].get("alertname") == "Watchdog" and a["state"] == "firing" for a in alerts)


def alertmanager_down_is_reported_as_a_pipeline_down(lab: Lab) -> None:
    """Issue 12: with Alertmanager down, status said "Watchdog firing" -- true of Prometheus, yet no page could
    be delivered. It must say the pipeline is down, naming Alertmanager, and exit 1."""
    wait_until(lambda: _watchdog_firing(lab), timeout=scaled(30), interval=0.5, what="Watchdog firing in Prometheus")
    alertmanager = _lab_json(lab)["components"]["alertmanager"]
    os.kill(alertmanager["pid"], signal.SIGTERM)
    wait_until(lambda: health_problem(alertmanager["health_url"], timeout=1) is not None, timeout=scaled(20),
               interval=0.2, what="Alertmanager stopped answering")
    assert _watchdog_firing(lab), "Prometheus still fires the Watchdog: the case the learner met"

    status = lab.cli("status")

    assert status.returncode == 1, status.stdout + status.stderr
    text = normal(status.stdout)
    assert "alert pipeline: DOWN -- pages will not reach you" in text, status.stdout
    assert "Alertmanager is unreachable: alerts firing in Prometheus are delivered to no one" in text, status.stdout
    assert "Watchdog firing" not in text and "alert pipeline: OK" not in text, status.stdout
    verdict = json.loads(lab.cli("status", "--json").stdout)["alert_pipeline"]
    assert verdict["state"] == "down" and any("Alertmanager" in f for f in verdict["findings"]), verdict


JOBS = [Job("lifecycle: up, status, restart, down", up_status_restart_down, cost_s=30, last=True)]
