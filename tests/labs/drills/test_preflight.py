"""A clean start: how long the previous drill's traffic stays in the page windows of the next drill's alerts.

The measured problem (tests/labs/drills/plans.py, latency-regression): the same fault paged after ~24 s on a
fresh lab and ~5 min right after another drill, whose healthy requests diluted the burn rate. ``drill start``
waits until that traffic has left the window (or says it did not wait)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from labs.drills import catalogue, preflight
from labs.drills import journal as jr
from monitoring.render import LAB_SPEEDUP


@pytest.fixture(autouse=True)
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("AIOPS_STATE_DIR", str(tmp_path))
    return tmp_path


def _finished(stopped_ago: float, now: float) -> None:
    j = jr.Journal(run_id=f"error-burst-{stopped_ago}", drill_id="error-burst", started_at=now - stopped_ago - 200,
                   status="stopped", stopped_at=now - stopped_ago)
    jr.archive(j)


def test_the_page_windows_come_from_the_alert_rules() -> None:
    windows = preflight.page_windows()
    assert windows == {"ModelServiceErrorBudgetBurn": 3600.0, "ModelServiceLatencyBudgetBurn": 3600.0}


def test_a_burn_rate_drill_right_after_another_waits_for_the_rest_of_the_long_window() -> None:
    now = time.time()
    latency = catalogue.get("latency-regression")
    assert preflight.settle_seconds(latency, LAB_SPEEDUP, now) == 0.0, "a fresh lab has nothing to wait for"
    _finished(stopped_ago=100, now=now)
    assert preflight.settle_seconds(latency, LAB_SPEEDUP, now) == pytest.approx(3600 / LAB_SPEEDUP - 100)
    # production mode: the real hour
    assert preflight.settle_seconds(latency, 1, now) == pytest.approx(3600 - 100)
    # A drill that pages on something else (up == 0) is not diluted by earlier requests.
    assert preflight.settle_seconds(catalogue.get("service-crash"), LAB_SPEEDUP, now) == 0.0


def test_traffic_older_than_the_window_is_gone() -> None:
    now = time.time()
    _finished(stopped_ago=3600 / LAB_SPEEDUP + 1, now=now)
    assert preflight.settle_seconds(catalogue.get("latency-regression"), LAB_SPEEDUP, now) == 0.0
