"""The monitoring levers on the drill timeline, against a real Prometheus and a real Alertmanager.

A learner's edit of the rendered Prometheus config and the reload that applies it (the real fix of
monitoring-blind-spot, done with ``curl``, not through the lab's CLI), and a silence on the drill's alert:
each is found, judged by the scoring rules, and -- for silences -- expired by ``drill stop``'s rollback,
which leaves the silences that were there before the drill alone.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from aiops_core import http as lab_http
from aiops_core.alertmanager import Alertmanager
from aiops_core.polling import wait_until
from labs.drills import catalogue, engine, monitoring_levers, preflight, rollback, scoring
from labs.drills import journal as jr
from tests.support.alertmanager import running_alertmanager
from tests.support.ports import free_port
from tests.support.prometheus import TestPrometheus, running_prometheus

pytestmark = pytest.mark.integration


@dataclass
class Monitoring:
    prom: TestPrometheus
    am: Alertmanager
    config: Path


@pytest.fixture
def monitoring(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Monitoring]:
    state = tmp_path / "state"
    # Prometheus renders its config where a running lab's is: <state>/run/config/prometheus.yml.
    with running_alertmanager(tmp_path, f"http://127.0.0.1:{free_port()}") as am_url, \
            running_prometheus(state / "run", {}) as prom:
        monkeypatch.setenv("AIOPS_STATE_DIR", str(state))
        monkeypatch.setenv("AIOPS_PROMETHEUS_URL", prom.url)
        monkeypatch.setenv("AIOPS_ALERTMANAGER_URL", am_url)
        monkeypatch.setenv("AIOPS_MODEL_SERVICE_URL", f"http://127.0.0.1:{free_port()}")  # not running
        yield Monitoring(prom, Alertmanager(), monitoring_levers.prometheus_config_path())


def _journal(drill_id: str) -> jr.Journal:
    started = time.time()
    return jr.Journal(run_id=f"{drill_id}-t", drill_id=drill_id, started_at=started, injected_at=started,
                      baseline=monitoring_levers.snapshot())


def _set_self_scrape_port(config: Path, port: int) -> None:
    text = config.read_text()
    config.write_text(re.sub(r"(job_name: prometheus\n(?:.*\n)*?\s+- )127\.0\.0\.1:\d+", rf"\g<1>127.0.0.1:{port}",
                             text, count=1))


def _reload(prom: TestPrometheus) -> float:
    before = prom.last_reload()
    assert lab_http.post(prom.url + "/-/reload", timeout=10).status_code == 200
    return wait_until(lambda: (t := prom.last_reload()) and t != before and t, timeout=10,
                      what="Prometheus to report the reload")


def _silence(am_url: str, alertname: str, comment: str) -> str:
    now = datetime.now(UTC)
    body = {"matchers": [{"name": "alertname", "value": alertname, "isRegex": False, "isEqual": True}],
            "startsAt": now.isoformat(), "endsAt": (now + timedelta(hours=1)).isoformat(),
            "createdBy": "learner", "comment": comment}
    resp = lab_http.post(am_url + "/api/v2/silences", json=body, timeout=10)
    assert resp.status_code == 200, resp.text
    return resp.json()["silenceID"]


def test_a_config_edit_and_a_curl_reload_are_on_the_timeline_but_the_engines_own_are_not(
        monitoring: Monitoring) -> None:
    j = _journal("monitoring-blind-spot")
    own_port = monitoring.prom.port
    # The engine's fault: the target moved to a closed port, applied with a reload, marked as the engine's.
    _set_self_scrape_port(monitoring.config, free_port())
    _reload(monitoring.prom)
    monitoring_levers.mark_engine_change(j)
    assert engine.record_actions(j) == []
    # A re-render that changes only the generated header, in every file, is not an edit.
    for path in monitoring.config.parent.rglob("*.yml"):
        path.write_text("# rendered again, new header\n" + path.read_text())
    assert engine.record_actions(j) == []
    # The learner's fix, by hand: the port back in the file, then curl -X POST /-/reload.
    _set_self_scrape_port(monitoring.config, own_port)
    reloaded = _reload(monitoring.prom)
    found = engine.record_actions(j)
    kinds = [a.kind for a in found]
    assert sorted(kinds) == ["monitoring:edit:prometheus.yml", "monitoring:reload:prometheus"], found
    edit = next(a for a in found if a.kind.startswith("monitoring:edit"))
    assert "scrape targets as before the drill" in edit.detail
    assert next(a for a in found if a.kind.endswith("reload:prometheus")).at == reloaded
    assert engine.record_actions(j) == [], "each lever is on the timeline once"
    # The drill accepts exactly that fix: not a wrong action.
    assert scoring.judge_actions(j, catalogue.get("monitoring-blind-spot"), []) == ([], [])
    # The same edit during another drill is a lever that incident did not need.
    wrong, _ = scoring.judge_actions(j.model_copy(update={"drill_id": "error-burst"}), catalogue.get("error-burst"), [])
    assert len(wrong) == 2


def test_a_silence_on_the_drills_alert_is_a_wrong_action_and_drill_stop_expires_it(monitoring: Monitoring) -> None:
    am_url = monitoring.am.base_url
    older = _silence(am_url, "DriftMonitorDown", "planned maintenance, before the drill")
    j = _journal("bad-model-deploy")
    assert preflight.leftover_silences() and older in preflight.leftover_silences()[0]
    hiding = _silence(am_url, "ModelQualityDegraded", "too noisy")
    found = engine.record_actions(j)
    assert [(a.kind, a.data["silence_id"]) for a in found] == [("silence:create", hiding)]
    assert 'alertname="ModelQualityDegraded"' in found[0].detail and "by learner (too noisy)" in found[0].detail
    wrong, _ = scoring.judge_actions(j, catalogue.get("bad-model-deploy"), [])
    assert len(wrong) == 1 and "hides a page" in wrong[0]

    # drill stop's rollback expires the drill's silence and keeps the one from before the drill.
    outcome = rollback.run_one(jr.RollbackAction(
        kind="silences", params={"since": j.started_at, "keep": j.baseline["silences"]}, description="expire"))
    assert hiding in outcome
    active = {s["id"] for s in monitoring.am.active_silences()}
    assert older in active and hiding not in active
    assert "no silence to expire" in rollback.run_one(jr.RollbackAction(
        kind="silences", params={"since": j.started_at, "keep": j.baseline["silences"]}, description="expire"))
