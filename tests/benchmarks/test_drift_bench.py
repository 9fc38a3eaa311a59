"""benchmarks/drift_bench.py still runs end to end (a smoke run: three monitor runs on small frames; no
figure is judged here, only that it writes its result and compares it with the previous one)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.benchmarks.conftest import results, run_benchmark

pytestmark = pytest.mark.integration  # a subprocess running Evidently: a CPU-bound process

PREVIOUS = {"figures": {"run_s": {"median": 2.0}, "cpu_s_median": 1.5, "baseline_s_median": 1.0, "rss_drift": 0.0}}


def test_smoke_run_writes_a_result_and_compares_with_the_previous_one(tmp_path: Path) -> None:
    (tmp_path / "drift-20000101-000000.json").write_text(json.dumps(PREVIOUS))
    done = run_benchmark("drift_bench.py", tmp_path, "--smoke")

    figures = results(tmp_path, "drift")[-1]["figures"]
    assert figures["rows"] == figures["reference_rows"] == 1000
    assert len(figures["rss_mib"]) == figures["runs"] == 3
    assert figures["run_s"]["median"] > 0 and figures["baseline_s_median"] > 0
    assert "compared with drift-20000101-000000.json" in done.stdout
    assert re.search(r"steady run median s +2 -> ", done.stdout)
    verdicts = [line.split()[0] for line in done.stdout.splitlines() if line.strip().startswith(("PASS", "FAIL"))]
    assert len(verdicts) == 2
