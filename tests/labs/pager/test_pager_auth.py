"""Only the lab's own callers write to the pager: a forged heartbeat, notification, acknowledgement or drill
marker is refused with a message that says what to send, and changes nothing; reads stay open.

Real pager processes (and a real Alertmanager holding the wrong token), on free loopback ports.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from aiops_core import http as lab_http
from aiops_core import yaml_text
from aiops_core.polling import wait_until
from monitoring import render
from tests.labs.pager.test_pager_api import LAB_CALLER, PagerUnderTest, running_pager, start_pager
from tests.labs.pager.test_pager_logic import alert, payload
from tests.support.processes import ManagedProcess, free_port, lab_env
from tests.support.speed import scaled

pytestmark = pytest.mark.integration

FORGED = {"Authorization": "Bearer forged-token-0123456789"}
# Every write, with a body the pager would accept from the lab.
WRITES: list[tuple[str, Any]] = [
    ("/heartbeat", payload(alert("Watchdog", severity="none"))),
    ("/alerts", payload(alert("ForgedPage"))),
    ("/pages/ack", {"target": "RealPage", "by": "intruder"}),
    ("/drill", {"drill": "forged"}),
]


@pytest.fixture
def pager(tmp_path: Path) -> Iterator[PagerUnderTest]:
    with running_pager(tmp_path / "state") as p:
        yield p


def _unchanged(pager: PagerUnderTest) -> None:
    assert pager.get("/heartbeat")["last_seen"] is None, "a refused heartbeat must not count"
    assert [p["alertname"] for p in pager.get("/pages")] == ["RealPage"]
    assert pager.get("/pages")[0]["acked_at"] is None
    assert pager.get("/drill") == {"drill": None}


def test_writes_without_the_lab_token_are_refused_and_change_nothing(pager: PagerUnderTest) -> None:
    assert pager.post("/alerts", payload(alert("RealPage"))).status_code == 200

    for path, body in WRITES:
        anonymous = pager.post(path, body, headers={})
        assert anonymous.status_code == 401, (path, anonymous.text)
        assert anonymous.headers["www-authenticate"] == "Bearer"
        message = anonymous.json()["error"]
        assert message.startswith(f"authorization: POST {path} accepts only the lab's own callers"), message
        assert "Authorization: Bearer <token>" in message and "admin-token" in message

        forged = pager.post(path, body, headers=FORGED)
        assert forged.status_code == 403, (path, forged.text)
        assert forged.json()["error"].startswith(f"authorization: the bearer token is wrong for POST {path}")
    _unchanged(pager)

    # Reads stay open to anyone: they change nothing.
    for path in ("/pages", "/heartbeat", "/alerts/active", "/events", "/drill", "/metrics", "/healthz"):
        assert lab_http.get(pager.url + path, timeout=5).status_code == 200, path


def test_the_same_writes_with_the_lab_token_are_accepted(pager: PagerUnderTest) -> None:
    assert pager.post("/alerts", payload(alert("RealPage"))).status_code == 200
    for path, body in WRITES:
        if path == "/pages/ack":
            body = {"target": "RealPage", "by": "cli"}
        resp = pager.post(path, body, headers=LAB_CALLER)
        assert resp.status_code == 200, (path, resp.text)
    assert pager.get("/heartbeat")["healthy"]
    assert {p["alertname"] for p in pager.get("/pages")} == {"RealPage", "ForgedPage"}
    assert pager.get("/pages", alertname="RealPage")[0]["acked_by"] == "cli"
    assert pager.get("/drill")["drill"]["drill"] == "forged"


def test_a_pager_started_without_a_token_refuses_every_write(tmp_path: Path) -> None:
    pager = start_pager(tmp_path / "state", AIOPS_ADMIN_TOKEN="")  # and no admin-token file in its state dir
    try:
        for path, body in WRITES:
            resp = pager.post(path, body)
            assert resp.status_code == 403, (path, resp.text)
            assert f"POST {path} is disabled" in resp.json()["error"] and "AIOPS_ADMIN_TOKEN" in resp.json()["error"]
        assert pager.get("/pages") == [] and pager.get("/heartbeat")["last_seen"] is None
    finally:
        pager.process.stop()


def _failed_webhooks(am_url: str) -> float:
    text = lab_http.get(am_url + "/metrics", timeout=5).text
    return sum(s.value for f in text_string_to_metric_families(text) for s in f.samples
               if s.name == "alertmanager_notifications_failed_total" and s.labels.get("integration") == "webhook")


@pytest.mark.skipif(shutil.which("prometheus-alertmanager") is None and shutil.which("alertmanager") is None,
                    reason="Alertmanager is not installed (apt-get install prometheus-alertmanager)")
def test_alertmanager_with_the_wrong_token_delivers_nothing_and_counts_the_failures(pager: PagerUnderTest,
                                                                                  tmp_path: Path) -> None:
    """What AlertmanagerNotificationsFailing watches: a refused webhook is a failed notification."""
    port = free_port()
    wrong = tmp_path / "stale-token"
    wrong.write_text("a-token-from-an-older-lab\n")
    done = render.render(tmp_path / "am-config", targets={"alertmanager": f"127.0.0.1:{port}"}, pager_url=pager.url,
                         lab_mode=True, pager_credentials_file=wrong)
    assert yaml_text.load(done.alertmanager_yml.read_text())["receivers"][0]["webhook_configs"][0]["http_config"] == {
        "authorization": {"type": "Bearer", "credentials_file": str(wrong)}}
    am = ManagedProcess(render.alertmanager_command(done.alertmanager_yml, tmp_path / "am-data", port),
                        lab_env(tmp_path), tmp_path / "alertmanager.log").start()
    am_url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: lab_http.get(render.ready_url(port), timeout=1).status_code == 200, timeout=scaled(30),
                   what="alertmanager ready")
        watchdog = {"labels": {"alertname": "Watchdog", "severity": "none"}}
        page = {"labels": {"alertname": "RealPage", "severity": "page"}, "annotations": {"summary": "s"}}
        assert lab_http.post(am_url + "/api/v2/alerts", json=[watchdog, page], timeout=5).status_code == 200
        # A 4xx is not retried: Alertmanager counts the notification as failed at once (a dead pager: after
        # retrying for the group_interval, at least 10 s).
        wait_until(lambda: _failed_webhooks(am_url) >= 1, timeout=scaled(30), interval=0.5,
                   what="alertmanager_notifications_failed_total{integration=webhook} to count the refusals")
        assert pager.get("/events") == [] and pager.get("/heartbeat")["last_seen"] is None
        assert "403" in am.output(), am.output()[-2000:]  # Alertmanager's log names the pager's answer
    finally:
        am.stop()
