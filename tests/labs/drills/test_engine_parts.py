"""The engine's pure parts: judging a held condition, the journal's persistence, the upstream
clients' releases, the traffic's request bodies and the postmortem draft."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from aiops_core.durations import parse_seconds
from aiops_core.prometheus import Prometheus
from labs.drills import catalogue, postmortem, scoring, upstream
from labs.drills import journal as jr
from labs.drills.checks import held_out, judge
from labs.drills.traffic import RecordSource, TrafficRunner
from model_service.features import FEATURE_NAMES
from tests.support.processes import free_port


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("AIOPS_STATE_DIR", str(tmp_path))
    monkeypatch.delenv("AIOPS_REPORTS_DIR", raising=False)
    return tmp_path


def test_durations() -> None:
    assert parse_seconds("30s") == 30 and parse_seconds("2m") == 120 and parse_seconds("250ms") == 0.25
    assert parse_seconds(5) == 5.0
    for bad in ("soon", "-1s", "5 m", True):
        with pytest.raises(ValueError):
            parse_seconds(bad)


def test_a_condition_must_hold_at_every_step_with_data_throughout() -> None:
    steps = [(float(t), 0.001) for t in range(16)]
    assert judge("x", steps, "<", 0.005, hold=15, step=1).passed
    one_bad = [*steps[:-1], (15.0, 0.2)]
    result = judge("x", one_bad, "<", 0.005, hold=15, step=1)
    assert not result.passed and "1 of the last 16" in result.detail
    gap = steps[-5:]  # the service came back five seconds ago: recovered, but not held yet
    assert not judge("x", gap, "<", 0.005, hold=15, step=1).passed
    assert not judge("x", [], "<", 0.005, hold=15, step=1).passed
    assert not judge("x", [(0.0, math.nan)] * 16, "<", 0.005, hold=15, step=1).passed


def _journal(drill_id: str = "error-burst", t0: float = 1000.0) -> jr.Journal:
    j = jr.Journal(run_id=f"{drill_id}-x", drill_id=drill_id, started_at=t0 - 10, injected_at=t0)
    j.add("injection", "flag flipped", at=t0)
    return j


def test_journal_round_trip_archive_and_best_scores(state: Path) -> None:
    j = _journal()
    j.rollbacks.append(jr.RollbackAction(kind="config_flag", params={"flag": "error_ratio", "value": 0.0},
                                         description="restore"))
    jr.save(j)
    assert jr.load_current() == j
    assert jr.load_run() == j
    jr.archive(j)
    assert jr.load_current() is None
    assert jr.load_run("error-burst-x") == j
    assert jr.load_run() == j  # the latest finished run
    for score, outcome in ((70, "passed"), (90, "passed"), (100, "stopped")):
        jr.record_result({"drill": "error-burst", "outcome": outcome, "score": score})
    assert jr.best_scores() == {"error-burst": 90}


def test_upstream_release_rollback_keeps_todays_demand(state: Path) -> None:
    s = upstream.UpstreamState()
    upstream.release(s, "3.15.0", {"rename": {"distance_km": "distance"}}, "checkout-ci", "refactor")
    upstream.surge(s, 90, "sale")
    assert s.checkout.rename == {"distance_km": "distance"} and s.checkout.rate_per_s == 90
    upstream.rollback(s, "checkout-api", actor="cli")
    assert s.checkout.rename == {} and s.checkout.version == "3.14.1" and s.checkout.rate_per_s == 90
    with pytest.raises(upstream.UpstreamError, match="no earlier release"):
        upstream.rollback(s, "checkout-api", actor="cli")
    with pytest.raises(upstream.UpstreamError, match="no releases"):
        upstream.rollback(s, "label-pipeline", actor="cli")
    upstream.stall(s, "poison message")
    upstream.restart(s, "checkout-api", actor="cli")
    assert s.labels.status == "stalled", "restarting another client does not clear the stall"
    upstream.restart(s, "label-pipeline", actor="cli")
    assert s.labels.status == "running"
    assert [e["action"] for e in s.history] == ["release", "demand", "rollback", "stalled", "restart", "restart"]
    upstream.save(s)
    assert upstream.load() == s


def test_traffic_sends_what_the_release_says(state: Path) -> None:
    runner = TrafficRunner("run", "http://127.0.0.1:1", max_seconds=1, max_requests=1, seed=3)
    runner.state.checkout = runner.state.checkout.model_copy(update={
        "rename": {"distance_km": "distance"}, "batch_share": 1.0, "batch_size": 5, "scenario": "unit-error"})
    body, labels, n = runner._body()
    rows = json.loads(body)["instances"]
    assert n == 5 and len(labels) == 5
    assert set(rows[0]) == ({*FEATURE_NAMES} - {"distance_km"}) | {"distance"}
    assert all(r["distance"] > 100 for r in rows), "unit-error sends metres"


def test_record_source_switches_scenario_and_never_runs_dry() -> None:
    src = RecordSource(seed=1)
    rows, labels = src.take(3, "normal")
    assert len(rows) == 3 and len(labels) == 3
    for _ in range(3):
        rows, _ = src.take(1500, "feed-broken-null")
    assert all(r["traffic_index"] is None for r in rows)


def test_held_out_sets_are_the_golden_set_or_a_drifted_world() -> None:
    normal, y = held_out("normal", 200)
    drifted, y2 = held_out("concept-drift", 200)
    assert len(normal) == len(y) == 200 == len(drifted)
    assert sum(y2) / len(y2) > sum(y) / len(y) + 3, "concept drift makes deliveries longer"


def test_postmortem_draft_without_prometheus_fills_every_placeholder(state: Path) -> None:
    drill = catalogue.get("service-crash")
    j = _journal("service-crash")
    j.acked_at, j.passed_at = 1020.0, 1090.0
    j.add("learner", "model-service restarted (pid 42)", at=1050.0, key="k", action="restart:model-service")
    j.add("passed", "success checks hold", at=1090.0)
    pages = [{"alertname": "ModelServiceDown", "severity": "page", "summary": "down", "paged_at": 1012.0,
              "resolved_at": 1070.0}]
    score = scoring.score(j, drill, pages)
    dead = Prometheus(base_url=f"http://127.0.0.1:{free_port()}", timeout=1.0)
    path = postmortem.write(j, drill, score, pages, dead)
    text = path.read_text()
    assert path == state / "reports" / "drills" / j.run_id / "postmortem.md"
    assert "${" not in text
    assert "# Postmortem: The model service is gone" in text
    assert "| /predict requests served (Prometheus) | no data |" in text
    for row in ("| +12s | page | ModelServiceDown", "| +50s | learner | model-service restarted",
                "| +1m10s | resolved |", "| +1m30s | passed |"):
        assert row in text
    assert "## Lessons learned\n\n_..._" in text and "## Action items" in text
    assert json.loads((path.parent / "report.json").read_text())["score"]["ttd_s"] == 12.0


def test_a_rollback_already_planned_is_not_planned_twice(state: Path) -> None:
    """bad-model-deploy plans "re-activate v1" like the drill start does: stop must do (and print) it once."""
    from labs.drills import faults

    j = _journal()
    start = jr.RollbackAction(kind="model", params={"version": "v1"}, description="re-activate the pre-drill v1")
    j.rollbacks.append(start)
    faults._plan(j, jr.RollbackAction(kind="model", params={"version": "v1"}, description="re-activate model v1"))
    faults._plan(j, jr.RollbackAction(kind="model", params={"version": "v2"}, description="re-activate model v2"))
    assert [a.params["version"] for a in j.rollbacks] == ["v1", "v2"]
