"""The payload contract, proven with the real thing: Alertmanager 0.25 delivering to the real pager, with
the lab token read from a file (``http_config.authorization.credentials_file``), as the rendered config does."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from aiops_core import http as lab_http
from aiops_core.polling import wait_until
from tests.labs.pager.test_pager_api import start_pager
from tests.support.processes import ADMIN_TOKEN, ManagedProcess, free_port, lab_env

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("prometheus-alertmanager") is None,
                       reason="prometheus-alertmanager is not installed (apt-get install prometheus-alertmanager)"),
]


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def test_alertmanager_pages_resolves_and_heartbeats_through_the_pager(tmp_path: Path) -> None:
    pager = start_pager(tmp_path / "state")
    am_port = free_port()
    token_file = tmp_path / "admin-token"
    token_file.write_text(ADMIN_TOKEN + "\n")  # as aiops-lab up writes it
    auth = {"authorization": {"type": "Bearer", "credentials_file": str(token_file)}}
    config = {
        "route": {"receiver": "pager", "group_by": ["alertname"], "group_wait": "1s", "group_interval": "1s",
                  "repeat_interval": "1h",
                  "routes": [{"receiver": "heartbeat", "matchers": ['alertname="Watchdog"'],
                              "group_wait": "0s", "repeat_interval": "1m"}]},
        "receivers": [
            {"name": "pager", "webhook_configs": [{"url": f"{pager.url}/alerts", "send_resolved": True,
                                                   "http_config": auth}]},
            {"name": "heartbeat", "webhook_configs": [{"url": f"{pager.url}/heartbeat", "send_resolved": False,
                                                       "http_config": auth}]},
        ],
    }
    cfg = tmp_path / "alertmanager.yml"
    cfg.write_text(yaml.safe_dump(config))
    am = ManagedProcess(["prometheus-alertmanager", f"--config.file={cfg}", f"--storage.path={tmp_path / 'am'}",
                         f"--web.listen-address=127.0.0.1:{am_port}", "--cluster.listen-address="],
                        lab_env(tmp_path), tmp_path / "alertmanager.log").start()
    am_url = f"http://127.0.0.1:{am_port}"
    try:
        wait_until(lambda: lab_http.get(f"{am_url}/-/ready", timeout=1).status_code == 200, timeout=20,
                   what="alertmanager ready")
        alert = {"labels": {"alertname": "AmContract", "severity": "page", "service": "model-service"},
                 "annotations": {"summary": "contract test", "runbook_url": "runbooks/AmContract.md"},
                 "startsAt": _now(), "generatorURL": "http://127.0.0.1:9090/graph"}
        watchdog = {"labels": {"alertname": "Watchdog", "severity": "none"}, "startsAt": _now()}
        assert lab_http.post(f"{am_url}/api/v2/alerts", json=[alert, watchdog], timeout=5).status_code == 200

        [page] = wait_until(lambda: pager.get("/pages", alertname="AmContract"), timeout=20,
                            what="the page delivered by alertmanager")
        [am_alert] = [a for a in lab_http.get(f"{am_url}/api/v2/alerts", timeout=5).json()
                      if a["labels"]["alertname"] == "AmContract"]
        assert page["fingerprint"] == am_alert["fingerprint"]
        assert (page["severity"], page["summary"], page["runbook_url"]) == ("page", "contract test",
                                                                           "runbooks/AmContract.md")
        [event] = pager.get("/events")
        assert event["receiver"] == "pager" and event["status"] == "firing"
        wait_until(lambda: pager.get("/heartbeat")["healthy"], timeout=20, what="the Watchdog heartbeat")

        # The alert ends: Alertmanager sends a resolved notification for the same fingerprint.
        lab_http.post(f"{am_url}/api/v2/alerts", json=[{**alert, "endsAt": _now()}], timeout=5).raise_for_status()
        wait_until(lambda: pager.get("/pages", alertname="AmContract")[0]["status"] == "resolved", timeout=20,
                   what="the resolved notification")
        assert len(pager.get("/pages", alertname="AmContract")) == 1
    finally:
        am.stop()
        pager.process.stop()
