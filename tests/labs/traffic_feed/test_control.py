"""The feed's fault control: a validated file, applied within a quarter second, harmless when damaged."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from pydantic import ValidationError

from labs.traffic_feed import control
from labs.traffic_feed.control import FaultWatcher, FeedFault


@pytest.mark.parametrize(("fields", "message"), [
    ({"mode": "slow"}, "a slow dependency needs delay_ms > 0"),
    ({"mode": "down", "delay_ms": 100}, "only a slow dependency has a delay"),
    ({"mode": "flaky"}, "Input should be 'slow' or 'down'"),
    ({"mode": "slow", "delay_ms": -5}, "greater than or equal to 0"),
    ({"mode": "down", "colour": "red"}, "Extra inputs are not permitted"),
])
def test_a_bad_fault_is_refused_naming_the_field(fields: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        FeedFault.model_validate(fields)


def test_the_fault_file_lives_in_the_drills_state(tmp_path: Path) -> None:
    assert control.fault_path(tmp_path) == tmp_path / "drills" / "traffic-feed-fault.json"


def test_write_read_clear_round_trip(tmp_path: Path) -> None:
    path = control.fault_path(tmp_path)
    assert control.read(path) is None and control.clear(path) is False
    fault = FeedFault(mode="slow", delay_ms=1500, note="degraded")
    control.write(fault, path)
    assert control.read(path) == fault
    assert control.clear(path) is True and control.read(path) is None
    assert list(path.parent.iterdir()) == []  # no temporary files left behind


def test_the_watcher_follows_the_file_and_treats_a_damaged_one_as_healthy(tmp_path: Path) -> None:
    path = control.fault_path(tmp_path)
    watcher = FaultWatcher(path, ttl_s=0.0)
    assert watcher.current() is None
    control.write(FeedFault(mode="down"), path)
    assert watcher.current() == FeedFault.model_validate_json(path.read_text())
    path.write_text("{not json")
    assert watcher.current() is None
    control.write(FeedFault(mode="slow", delay_ms=10), path)
    assert watcher.current() is not None and watcher.current().delay_ms == 10
    control.clear(path)
    assert watcher.current() is None


def test_the_watcher_rechecks_at_most_once_per_ttl(tmp_path: Path) -> None:
    path = control.fault_path(tmp_path)
    watcher = FaultWatcher(path, ttl_s=60.0)
    assert watcher.current() is None
    control.write(FeedFault(mode="down"), path)
    assert watcher.current() is None  # cached: the hot path stats the file at most every ttl_s
    watcher._checked = time.monotonic() - 61.0
    assert watcher.current() is not None
