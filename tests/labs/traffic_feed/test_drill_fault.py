"""The dependency fault in the drill engine: validated in the drill file, injected the way each lab needs it
(the fault file natively, the feed's control API on compose), always rolled back -- against a real feed.

The full drills (page, failing check, mitigation, passing check) are played by tests/labs/drills' end-to-end suite.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from aiops_core import http as lab_http
from aiops_core.paths import REPO_ROOT
from aiops_core.polling import wait_until
from aiops_core.runstate import ComponentRecord, RunState
from labs.drills import catalogue, faults, rollback
from labs.drills.catalogue import CatalogueError, load_file
from labs.drills.fault_types import DependencyFault
from labs.drills.journal import Journal
from labs.drills.traffic import mobile_rows
from model_service import congestion, generator
from tests.labs.traffic_feed.feed import PROBE, FeedUnderTest, start_feed

TOKEN = "feed-control-token-0123456789"
DRILLS = ("dependency-slow", "dependency-down")


@pytest.mark.parametrize("drill_id", DRILLS)
def test_the_dependency_drills_are_resilience_drills_that_exercise_the_lookup(drill_id: str) -> None:
    drill = catalogue.load_all()[drill_id]
    assert drill.resilience, "the check must run while the provider is still degraded"
    assert [f.type for f in drill.faults] == ["dependency"]
    assert drill.traffic is not None and drill.traffic.checkout.mobile_share > 0, "no request would need a lookup"
    assert {a.split(":")[1] for a in drill.accepted_actions} <= {"traffic_feed_timeout_ms", "traffic_feed_fallback",
                                                                 "traffic_feed_breaker_*"}


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("delay_ms: 1500", "delay_ms: 0", "delay_ms: a slow dependency needs delay_ms > 0"),
    ("mode: slow", "mode: sluggish", "Input should be 'slow' or 'down'"),
    ("dependency: traffic-feed", "dependency: weather-feed", "Input should be 'traffic-feed'"),
    ("mobile_share: 0.4", "mobile_share: 1.4", "mobile_share: Input should be less than or equal to 1"),
])
def test_a_malformed_dependency_fault_names_the_file_and_the_field(tmp_path: Path, old: str, new: str,
                                                                   expected: str) -> None:
    text = (REPO_ROOT / "labs" / "drills" / "catalogue" / "dependency-slow.yml").read_text()
    assert old in text
    path = tmp_path / "dependency-slow.yml"
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(CatalogueError) as info:
        load_file(path)
    assert str(path) in str(info.value) and expected in str(info.value), str(info.value)


def test_a_down_dependency_has_no_delay() -> None:
    with pytest.raises(ValueError, match="only a slow dependency has a delay"):
        DependencyFault(type="dependency", mode="down", delay_ms=10, note="x")


def test_mobile_rows_omit_traffic_and_carry_labels_true_to_the_feeds_reading() -> None:
    frame = generator.generate(50, seed=9)
    rows, labels = generator.records(frame), [float(v) for v in frame[generator.TARGET]]
    mobile, mobile_labels = mobile_rows(rows, labels, "normal")
    assert all("traffic_index" not in r for r in mobile)
    assert [{**r, "traffic_index": o["traffic_index"]} for r, o in zip(mobile, rows, strict=True)] == rows
    coef = generator.TRUE_COEFFICIENTS["traffic_index"]
    for row, label, new in zip(rows, labels, mobile_labels, strict=True):
        reading = congestion.reading(row["distance_km"], row["is_peak_hour"])
        assert new - label == pytest.approx(coef * (reading - row["traffic_index"]))


@pytest.fixture
def lab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FeedUnderTest]:
    """A real feed recorded in a lab record, as ``aiops-lab up`` would (only what the fault needs)."""
    state = tmp_path / "state"
    for key in ("AIOPS_TARGET", "AIOPS_TRAFFIC_FEED_URL", "AIOPS_ADMIN_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AIOPS_STATE_DIR", str(state))
    feed = start_feed(state, AIOPS_TRAFFIC_FEED_CONTROL_TOKEN=TOKEN)
    RunState(supervisor_pid=0, mode="lab", started_at="", components={"traffic-feed": ComponentRecord(
        "traffic-feed", feed.port, feed.url, feed.url + "/healthz", pid=feed.process.proc.pid)}).save()
    try:
        yield feed
    finally:
        feed.process.stop()


def _journal() -> Journal:
    return Journal(run_id="dependency-test", drill_id="dependency-down", started_at=0.0)


def _wait_status(feed: FeedUnderTest, status: int) -> bool:
    return wait_until(lambda: lab_http.get(feed.url + PROBE, timeout=5).status_code == status, timeout=10,
                      what=f"the feed to answer {status}")


@pytest.mark.integration
def test_native_injection_writes_the_fault_file_and_rollback_always_clears_it(lab: FeedUnderTest) -> None:
    j = _journal()
    detail = faults.inject(j, DependencyFault(type="dependency", mode="down", note="major outage"))
    assert "traffic-feed provider down" in detail
    assert [a.kind for a in j.rollbacks] == ["dependency"] and lab.fault_file.is_file()
    assert _wait_status(lab, 503)
    rollback.run_all(j)
    assert j.rollbacks[0].done and not lab.fault_file.exists() and _wait_status(lab, 200)
    assert "already healthy" in rollback.run_one(j.rollbacks[0])  # idempotent: safe to run again


@pytest.mark.integration
def test_on_compose_the_fault_goes_through_the_control_api(lab: FeedUnderTest,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIOPS_TARGET", "compose")
    monkeypatch.setenv("AIOPS_TRAFFIC_FEED_URL", lab.url)
    monkeypatch.setenv("AIOPS_ADMIN_TOKEN", TOKEN)
    j = _journal()
    faults.inject(j, DependencyFault(type="dependency", mode="slow", delay_ms=800, note="degraded"))
    assert j.rollbacks[0].params == {"url": lab.url}
    assert lab.fault_file.is_file()  # written by the feed itself, in its own state
    rollback.run_all(j)
    assert j.rollbacks[0].done and not lab.fault_file.exists()


def test_injection_refuses_a_lab_without_the_feed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIOPS_STATE_DIR", str(tmp_path))
    monkeypatch.delenv("AIOPS_TARGET", raising=False)
    RunState(supervisor_pid=0, mode="lab", started_at="").save()
    j = _journal()
    with pytest.raises(faults.FaultError, match="traffic-feed is not part of the running lab"):
        faults.inject(j, DependencyFault(type="dependency", mode="down", note="x"))
    assert j.rollbacks == [] and not (tmp_path / "drills" / "traffic-feed-fault.json").exists()
