"""The real pager (``python -m labs.pager`` under uvicorn on a free port) fed real version-4 payloads.

Every pager here holds the lab token ``ADMIN_TOKEN`` and ``PagerUnderTest.post`` sends it, as Alertmanager and
the CLI do; ``test_pager_auth.py`` is about the requests that do not."""

from __future__ import annotations

import contextlib
import sqlite3
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from aiops_core import http as lab_http
from aiops_core.polling import wait_until
from labs.cli import output
from labs.cli.main import cli as aiops_lab
from tests.labs.pager.test_pager_logic import T0, alert, payload
from tests.support.processes import (
    ADMIN_TOKEN,
    ManagedProcess,
    ProcessUnderTest,
    free_port,
    lab_env,
    start_http_process,
)

LAB_CALLER = {"Authorization": f"Bearer {ADMIN_TOKEN}"}

pytestmark = pytest.mark.integration


@dataclass
class PagerUnderTest(ProcessUnderTest):
    def get(self, path: str, **params: Any) -> Any:
        resp = lab_http.get(self.url + path, params=params, timeout=5)
        assert resp.status_code == 200, resp.text
        return resp.json()

    def post(self, path: str, body: Any = None, headers: dict[str, str] | None = None, **kwargs: Any) -> httpx.Response:
        """POST as the lab's own caller (with its token) unless ``headers`` says otherwise."""
        return lab_http.post(self.url + path, json=body, timeout=5, headers=LAB_CALLER if headers is None else headers,
                             **kwargs)


def start_pager(state_dir: Path, port: int | None = None, **env: str) -> PagerUnderTest:
    """Start the pager the way ``aiops-lab up`` does (with the lab token) and wait for /healthz."""
    port = port or free_port()
    env = {"AIOPS_ADMIN_TOKEN": ADMIN_TOKEN, **env}
    proc = start_http_process("labs.pager", "pager", state_dir, lab_env(state_dir, AIOPS_PAGER_PORT=str(port), **env),
                              port)
    return PagerUnderTest(state_dir, port, proc)


@contextlib.contextmanager
def running_pager(state_dir: Path, **env: str) -> Iterator[PagerUnderTest]:
    """``start_pager``, stopped afterwards."""
    p = start_pager(state_dir, **env)
    try:
        yield p
    finally:
        p.process.stop()


@pytest.fixture(scope="module")
def pager(tmp_path_factory: pytest.TempPathFactory) -> PagerUnderTest:
    """One pager shared by the tests that do not depend on a fresh database (each uses its own alerts)."""
    p = start_pager(tmp_path_factory.mktemp("pager") / "state")
    yield p
    p.process.stop()


def _metric(pager: PagerUnderTest, line_start: str) -> float:
    text = lab_http.get(pager.url + "/metrics", timeout=5).text
    [line] = [ln for ln in text.splitlines() if ln.startswith(line_start + " ")]
    return float(line.split()[-1])


def test_pages_are_deduplicated_and_survive_kill_9(tmp_path: Path) -> None:
    pager = start_pager(tmp_path / "state")
    try:
        for body in (payload(alert("HighErrorRate")), payload(alert("HighErrorRate")),
                     payload(alert("HighLatency", severity="ticket", starts=T0 + 10)),
                     payload(alert("HighErrorRate", "resolved", ends=T0 + 120))):
            resp = pager.post("/alerts", body)
            assert resp.status_code == 200, resp.text
        pages = pager.get("/pages")
        assert [(p["alertname"], p["status"], p["notifications"]) for p in pages] == [
            ("HighLatency", "firing", 1), ("HighErrorRate", "resolved", 2)]
        assert pages[1]["runbook_url"] == "runbooks/HighErrorRate.md"
        assert [a["alertname"] for a in pager.get("/alerts/active")] == ["HighLatency"]
        assert [e["status"] for e in pager.get("/events")] == ["firing", "firing", "firing", "resolved"]
        assert _metric(pager, 'aiops_pager_notifications_total{status="firing"}') == 3
        assert _metric(pager, 'aiops_pager_pages_total{severity="page"}') == 1
        assert _metric(pager, "aiops_pager_active_alerts") == 1
    finally:
        pager.process.kill9()  # every 200 was committed first, so nothing acknowledged is lost
        pager.process.stop()
    again = start_pager(pager.state_dir, port=pager.port)
    try:
        assert again.get("/pages") == pages
        assert again.post("/alerts", payload(alert("HighLatency", severity="ticket", starts=T0 + 10))).json()[
            "effects"] == ["repeat"]
        assert len(again.get("/pages")) == 2
        assert _metric(again, 'aiops_pager_notifications_total{status="firing"}') == 4
    finally:
        again.process.stop()


@pytest.mark.parametrize(("body", "field"), [
    (b"{not json", "body"),
    (b'{"version": "4"}', "status"),
    (b'{"version": "3", "status": "firing", "receiver": "r", "groupKey": "g", "alerts": []}', "version"),
])
def test_malformed_bodies_are_422_naming_the_field(pager: PagerUnderTest, body: bytes, field: str) -> None:
    resp = lab_http.post(pager.url + "/alerts", content=body,
                         headers={"content-type": "application/json", **LAB_CALLER}, timeout=5)
    assert resp.status_code == 422
    assert resp.json()["error"].startswith(f"{field}:"), resp.json()


def test_bad_alerts_inside_a_valid_envelope_are_422_naming_the_alert(pager: PagerUnderTest) -> None:
    before = len(pager.get("/events"))
    body = payload(alert("A"), alert("B"))
    body["alerts"][1]["status"] = "pending"
    del body["alerts"][0]["labels"]["alertname"]
    resp = pager.post("/alerts", body)
    assert resp.status_code == 422
    fields = [d["field"] for d in resp.json()["details"]]
    assert fields == ["alerts[0].labels", "alerts[1].status"]
    assert len(pager.get("/events")) == before, "a rejected notification stores nothing"


def test_oversized_body_and_bad_queries_are_client_errors(pager: PagerUnderTest) -> None:
    huge = payload(*[alert(f"A{i}", description="x" * 5000) for i in range(1000)])
    assert pager.post("/alerts", huge).status_code == 413
    for params, field in (({"status": "open"}, "status"), ({"since": "yesterday"}, "since"),
                          ({"limit": "0"}, "limit")):
        resp = lab_http.get(pager.url + "/pages", params=params, timeout=5)
        assert resp.status_code == 422 and resp.json()["error"].startswith(f"{field}:"), resp.text
    assert pager.post("/drill", {"drill": "Not A Drill!"}).json()["error"].startswith("drill:")


def test_drill_marker_is_exported_while_a_drill_runs(pager: PagerUnderTest) -> None:
    assert pager.post("/drill", {"drill": "latency-spike"}).status_code == 200
    assert _metric(pager, 'aiops_pager_drill_info{drill="latency-spike"}') == 1
    assert pager.get("/drill")["drill"]["drill"] == "latency-spike"
    assert pager.post("/drill", {"drill": None}).status_code == 200
    assert "aiops_pager_drill_info{" not in lab_http.get(pager.url + "/metrics").text
    assert pager.get("/drill") == {"drill": None}


def test_missing_heartbeat_pages_once_from_the_background_task(tmp_path: Path) -> None:
    pager = start_pager(tmp_path / "state", AIOPS_PAGER_HEARTBEAT_TIMEOUT_S="1.5")
    try:
        assert pager.post("/heartbeat", payload(alert("Watchdog", severity="none"))).json()["healthy"]
        db = tmp_path / "state" / "pager.db"

        def synthetic_pages() -> list[tuple[str, str | None]]:
            # Read the database, not the API: every API request also runs the check, and this test is
            # about the background task that pages when nobody is asking.
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
                return conn.execute("SELECT severity, resolved_at FROM pages WHERE alertname = "
                                    "'WatchdogHeartbeatMissing'").fetchall()

        assert wait_until(synthetic_pages, timeout=15, what="the WatchdogHeartbeatMissing page") == [("page", None)]
        status = pager.get("/heartbeat")
        assert not status["healthy"] and status["age_seconds"] > 1.5
        assert _metric(pager, "aiops_pager_heartbeat_age_seconds") > 1.5
        assert len(pager.get("/pages", alertname="WatchdogHeartbeatMissing")) == 1, "one page per outage"
        resolved_watchdog = payload(alert("Watchdog", "resolved", severity="none", ends=T0))
        assert pager.post("/heartbeat", resolved_watchdog).json()["counted"] is False
        assert pager.get("/pages", alertname="WatchdogHeartbeatMissing")[0]["status"] == "firing"
        assert pager.post("/heartbeat").json()["counted"] is True
        [page] = pager.get("/pages", alertname="WatchdogHeartbeatMissing")
        assert page["status"] == "resolved"
        assert [e["kind"] for e in page["timeline"]] == ["paged", "resolved"]
    finally:
        pager.process.stop()


def test_invalid_settings_exit_with_a_message(tmp_path: Path) -> None:
    proc = ManagedProcess([sys.executable, "-m", "labs.pager"],
                          lab_env(tmp_path, AIOPS_PAGER_PORT=str(free_port()), AIOPS_PAGER_HEARTBEAT_TIMEOUT_S="-1"),
                          tmp_path / "bad.log").start()
    assert proc.proc is not None and proc.proc.wait(20) == 2
    assert "AIOPS_PAGER_HEARTBEAT_TIMEOUT_S" in proc.output() and "Traceback" not in proc.output()


def test_cli_lists_acks_and_checks_the_heartbeat(pager: PagerUnderTest, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIOPS_PAGER_URL", pager.url)
    monkeypatch.setenv("AIOPS_ADMIN_TOKEN", ADMIN_TOKEN)  # what aiops-lab up leaves in the state dir
    monkeypatch.setattr(output.console, "width", 200)  # rich read COLUMNS when the console was created
    pager.post("/alerts", payload(alert("HighErrorRate"), alert("HighLatency", severity="ticket")))
    runner = CliRunner()

    listed = runner.invoke(aiops_lab, ["pager", "list", "--status", "firing"])
    assert listed.exit_code == 0, listed.output
    assert "HighErrorRate" in listed.output and "runbooks/HighLatency.md" in listed.output

    acked = runner.invoke(aiops_lab, ["pager", "ack", "HighErrorRate"])
    assert acked.exit_code == 0 and "acknowledged" in acked.output, acked.output
    [page] = pager.get("/pages", alertname="HighErrorRate")
    assert page["acked_at"] is not None and page["acked_by"] == "cli"
    assert "firing, acked" in runner.invoke(aiops_lab, ["pager", "list"]).output

    unknown = runner.invoke(aiops_lab, ["pager", "ack", "NoSuchAlert"])
    assert unknown.exit_code != 0 and "aiops-lab pager list" in unknown.output

    never = runner.invoke(aiops_lab, ["pager", "heartbeat"])
    assert never.exit_code == 1 and "no Watchdog heartbeat" in never.output
    sent = runner.invoke(aiops_lab, ["pager", "heartbeat", "--send"])
    assert sent.exit_code == 0 and "Watchdog heartbeat" in sent.output, sent.output

    monkeypatch.setenv("AIOPS_PAGER_URL", f"http://127.0.0.1:{free_port()}")
    down = runner.invoke(aiops_lab, ["pager", "list"])
    assert down.exit_code == 3 and "aiops-lab up" in down.output
