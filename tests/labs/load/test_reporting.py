"""The progress and summary files the CLI reads, computed from Locust's own statistics objects."""

from __future__ import annotations

import json
from pathlib import Path

from locust.env import Environment

from labs.load import reporting
from labs.load.locustfile import FEEDBACK, SINGLE


def env_with_requests() -> Environment:
    env = Environment()
    for ms in range(1, 101):  # 1..100 ms
        env.stats.log_request("POST", SINGLE, ms, 80)
    for _ in range(10):
        env.stats.log_request("POST", FEEDBACK, 5, 40)
    env.stats.log_error("POST", FEEDBACK, "HTTP 404: prediction_id: no prediction")
    return env


def test_summary_has_exact_counts_and_percentiles_per_request_name() -> None:
    summary = reporting.final_summary(env_with_requests(), started=0.0, exit_code=1)
    entries = {e["name"]: e for e in summary["entries"]}
    single, feedback = entries[SINGLE], entries[FEEDBACK]
    assert (single["requests"], single["failures"]) == (100, 0)
    # Locust's percentile rule (the smallest time at or above the rank), the same numbers as its own report.
    assert (single["p50_ms"], single["p95_ms"], single["p99_ms"]) == (51, 96, 100)
    assert (feedback["requests"], feedback["failures"], feedback["failure_ratio"]) == (10, 1, 0.1)
    assert summary["total"]["requests"] == 110 and summary["total"]["failures"] == 1
    assert summary["errors"][0]["occurrences"] == 1 and "404" in summary["errors"][0]["error"]
    assert summary["exit_code"] == 1


def test_progress_counts_the_run_as_the_summary_does() -> None:
    """Issue 12: the last progress line said 81 rps (the last 5 s, after the ramp-up) and the summary 68 rps
    (the whole run). Both now report the run so far the same way; the recent rate is shown as "now"."""
    env = env_with_requests()
    env.stats.total.start_time -= 10.0  # the run started 10 s ago: 110 requests over ~10 s
    progress = reporting.ProgressTracker(env).snapshot()
    total = reporting.final_summary(env, started=0.0, exit_code=0)["total"]
    same = ("rps", "requests", "failures", "p95_ms")
    assert {k: progress[k] for k in same} == {k: total[k] for k in same}
    assert 10.0 < progress["rps"] < 11.0 and (progress["requests"], progress["failures"]) == (110, 1)


def test_current_rps_counts_the_latest_requests() -> None:
    env = Environment()
    tracker = reporting.ProgressTracker(env)
    assert tracker.snapshot()["current_rps"] == 0.0
    tracker._samples[0] = (tracker._samples[0][0] - 2.0, 0)  # pretend the first sample is 2 s old
    for _ in range(40):
        env.stats.log_request("POST", SINGLE, 3, 80)
    snap = tracker.snapshot()
    assert snap["requests"] == 40
    assert 15 < snap["current_rps"] <= 20.0  # 40 requests in a little over 2 s
    env.stats.reset_all()  # --reset-stats after the ramp-up (capacity steps): a new count, not a negative rate
    assert tracker.snapshot()["current_rps"] == 0.0


def test_files_are_written_whole(tmp_path: Path) -> None:
    target = tmp_path / "summary.json"
    reporting._write(target, {"a": 1})
    assert json.loads(target.read_text()) == {"a": 1}
    assert not list(tmp_path.glob("*.tmp"))
