"""benchmarks/profile_summary.py reads py-spy's raw output: per-thread shares, total and self time."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from tests.benchmarks.conftest import BENCHMARKS

_spec = importlib.util.spec_from_file_location("profile_summary", BENCHMARKS / "profile_summary.py")
assert _spec is not None and _spec.loader is not None
profile_summary = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(profile_summary)

RAW = """\
thread (0x1): MainThread;run (server.py:10);predict (predict.py:5);validate (pydantic/main.py:847) 6
thread (0x1): MainThread;run (server.py:10);predict (predict.py:7) 2
thread (0x2): prediction-log;_run (prediction_log.py:9);_commit (prediction_log.py:30) 2
"""


def test_summary_merges_lines_and_attributes_self_time(tmp_path: Path) -> None:
    path = tmp_path / "b.txt"
    path.write_text(RAW)
    text = profile_summary.summarise(profile_summary.load(path), top=10)
    assert "10 samples" in text
    assert "threads: MainThread 80%, prediction-log 20%" in text
    total, own = text.split("self (innermost frame):")
    assert " 80.0%  predict (predict.py)" in total  # both of predict's lines, merged
    assert " 60.0%  validate (pydantic/main.py)" in own
    assert " 20.0%  predict (predict.py)" in own


def test_a_profile_without_thread_names_counts_as_one_thread(tmp_path: Path) -> None:
    path = tmp_path / "drift.txt"
    path.write_text("main (bench.py:3);run_once (monitor.py:40) 4\n")
    assert "threads: (all) 100%" in profile_summary.summarise(profile_summary.load(path), top=5)


def test_groups_take_each_sample_by_its_innermost_matching_frame(tmp_path: Path) -> None:
    path = tmp_path / "b.txt"
    path.write_text(RAW)
    text = profile_summary.grouped(profile_summary.load(path), [("validation", ["validate"]), ("route", ["predict.py"]),
                                                                ("log", ["prediction_log.py"])])
    assert text.splitlines() == ["   60.0%  validation", "   20.0%  route", "   20.0%  log", "    0.0%  other"]
    # Listed first, but not innermost: the route keeps only what it spends itself.
    groups = [("route", ["predict.py"]), ("validation", ["validate"])]
    text = profile_summary.grouped(profile_summary.load(path), groups)
    assert text.splitlines() == ["   20.0%  route", "   60.0%  validation", "   20.0%  other"]
