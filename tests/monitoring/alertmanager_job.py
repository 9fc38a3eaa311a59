"""A real Alertmanager with the rendered lab-mode config, delivering to a real HTTP receiver on a free port.

Checks what amtool cannot: the webhook payload (version 4) reaches the right URL per receiver, the
Watchdog heartbeat repeats, and a ModelServiceDown page inhibits the service's burn-rate page.

A job of the drill pool, run beside its heavy jobs (``tests/labs/drills/pool.py``): it only waits for
Alertmanager's group and repeat intervals (11 s, 0.2 CPU-s alone). ``test_alertmanager_integration.py``
reports it.
"""

from __future__ import annotations

import json
import shutil
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiops_core import http as lab_http
from aiops_core.polling import wait_until
from monitoring.binaries import APT_INSTALL
from tests.labs.drills.lab import Lab, borrowed_dir
from tests.labs.drills.pool import Job, Skipped
from tests.support.alertmanager import running_alertmanager


class Receiver:
    """Records every webhook POST as (path, payload)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict]] = []
        received = self.calls

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                received.append((self.path, json.loads(body)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def alerts(self, path: str, receiver: str) -> list[dict]:
        return [a for p, body in self.calls if p == path and body["receiver"] == receiver for a in body["alerts"]]


def _alert(name: str, **labels: str) -> dict:
    now = datetime.now(UTC)
    return {"labels": {"alertname": name, **labels},
            "annotations": {"summary": name, "description": "test", "runbook_url": f"runbooks/{name}.md"},
            "startsAt": now.isoformat(), "endsAt": (now + timedelta(minutes=10)).isoformat()}


def routing_heartbeat_and_inhibition(lab: Lab) -> str:
    """Its own Alertmanager and receiver, in a directory beside the pool lab's state; the lab is not used."""
    if shutil.which("prometheus-alertmanager") is None and shutil.which("alertmanager") is None:
        raise Skipped(f"Alertmanager is not installed; install it with: {APT_INSTALL}")
    work = borrowed_dir(lab, "alertmanager-integration", binaries=(), models=False)
    receiver = Receiver()
    try:
        with running_alertmanager(work, receiver.url) as alertmanager:
            _routing_heartbeat_and_inhibition(alertmanager, receiver)
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()
    return f"{len(receiver.calls)} webhook calls, the burn-rate page inhibited"


def _routing_heartbeat_and_inhibition(alertmanager: str, receiver: Receiver) -> None:
    alerts = [
        _alert("Watchdog", severity="none"),
        _alert("ModelServiceDown", severity="page", job="model-service", instance="127.0.0.1:8000"),
        _alert("ModelServiceErrorBudgetBurn", severity="page", slo="availability", long_window="1h",
               short_window="5m"),
        _alert("DriftDatasetDrifted", severity="ticket", job="drift-monitor", instance="127.0.0.1:8001"),
    ]
    resp = lab_http.post(f"{alertmanager}/api/v2/alerts", json=alerts, timeout=10.0)
    assert resp.status_code == 200, resp.text

    wait_until(lambda: receiver.alerts("/alerts", "pager") and receiver.alerts("/alerts", "ticket-queue")
               and len(receiver.alerts("/heartbeat", "watchdog")) >= 2,
               timeout=40, interval=0.2, what="a page, a ticket and two Watchdog heartbeats")

    payload = next(body for path, body in receiver.calls if path == "/alerts")
    assert payload["version"] == "4" and payload["status"] == "firing"
    assert {a["labels"]["alertname"] for a in receiver.alerts("/heartbeat", "watchdog")} == {"Watchdog"}
    assert {a["labels"]["alertname"] for a in receiver.alerts("/alerts", "ticket-queue")} == {"DriftDatasetDrifted"}
    # The burn-rate page is inhibited by ModelServiceDown: never delivered, shown as suppressed.
    assert {a["labels"]["alertname"] for a in receiver.alerts("/alerts", "pager")} == {"ModelServiceDown"}
    state = {a["labels"]["alertname"]: a["status"] for a in lab_http.get(f"{alertmanager}/api/v2/alerts").json()}
    assert state["ModelServiceErrorBudgetBurn"]["state"] == "suppressed"
    assert state["ModelServiceErrorBudgetBurn"]["inhibitedBy"]
    assert state["ModelServiceDown"]["state"] == "active"


JOBS = [Job("monitoring: Alertmanager routing, heartbeat and inhibition", routing_heartbeat_and_inhibition,
            cost_s=20, beside_heavy=True, uses_lab=False)]
