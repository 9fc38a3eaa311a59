"""The access log: one JSON object per line, written in batches, nothing lost on close."""

from __future__ import annotations

import io
import json
import time
from datetime import UTC, datetime

import pytest

from aiops_core.polling import wait_until
from model_service.access_log import AccessLog, json_string
from tests.support.speed import scaled


def test_a_line_carries_every_field_and_an_iso_timestamp_in_milliseconds() -> None:
    out = io.StringIO()
    log = AccessLog(out, flush_s=60)
    before = datetime.now(UTC)
    log.record("req-1", "POST", "/predict", "/predict", 200, 0.0012345)
    log.close()  # writes what is left
    [line] = out.getvalue().splitlines()
    entry = json.loads(line)
    assert entry == {"ts": entry["ts"], "level": "info", "logger": "aiops.access", "msg": "request",
                     "request_id": "req-1", "method": "POST", "path": "/predict", "route": "/predict",
                     "status": 200, "duration_ms": 1.234}
    assert len(entry["ts"]) == len("2026-01-01T00:00:00.000+00:00") and entry["ts"].endswith("+00:00")
    stamped = datetime.fromisoformat(entry["ts"])
    assert before.replace(microsecond=before.microsecond // 1000 * 1000) <= stamped <= datetime.now(UTC)


def test_lines_within_one_second_and_across_seconds_are_stamped_apart() -> None:
    out = io.StringIO()
    log = AccessLog(out, flush_s=60)
    log.record("a", "GET", "/healthz", "/healthz", 200, 0.0)
    time.sleep(1.05)
    log.record("b", "GET", "/healthz", "/healthz", 200, 0.0)
    log.close()
    first, second = (datetime.fromisoformat(json.loads(line)["ts"]) for line in out.getvalue().splitlines())
    assert 1.0 <= (second - first).total_seconds() < 2.0


def test_an_idle_log_sleeps_until_a_line_arrives_then_writes_it_within_its_flush_interval(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """No request, no wake-up every ``flush_s`` (five a second were a third of an idle service's CPU); the first
    line wakes the thread, and is written one ``flush_s`` later, with whatever else arrived meanwhile."""
    from model_service import access_log

    # only a line (or close) can wake it here (raising=False: the old code has no such constant, and must fail below)
    monkeypatch.setattr(access_log, "IDLE_CHECK_S", 3600.0, raising=False)
    out = io.StringIO()
    log = AccessLog(out, flush_s=0.02)
    flushes = []
    flush = log.flush
    monkeypatch.setattr(log, "flush", lambda: flushes.append(1) or flush())
    try:
        time.sleep(0.5)  # 25 flush intervals: the old thread flushed ~25 times
        assert len(flushes) <= 1, f"an idle access log flushed {len(flushes)} times in 0.5 s"
        log.record("a", "GET", "/healthz", "/healthz", 200, 0.0)
        log.record("b", "GET", "/healthz", "/healthz", 200, 0.0)
        wait_until(lambda: len(out.getvalue().splitlines()) == 2, timeout=scaled(10), what="both lines written")
    finally:
        log.close()
    assert [json.loads(line)["request_id"] for line in out.getvalue().splitlines()] == ["a", "b"]


@pytest.mark.parametrize("path", ["/predict", "/admin/models/v2", "/a b", "/q?x=1&y=%22", '/quote"d', "/back\\slash",
                                  "/tab\t", "/ctl\x01", "/del\x7f", "/café", "/emoji\U0001f600", ""])
def test_paths_are_escaped_exactly_as_json_dumps_does(path: str) -> None:
    assert json_string(path) == json.dumps(path)
