"""benchmarks/footprint_bench.py still runs end to end (a smoke run: one start each, 100 requests per client;
no figure is judged here, only that both were measured, written and compared with the previous result)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.benchmarks.conftest import results, run_benchmark

pytestmark = pytest.mark.integration  # starts the real service and a bare uvicorn app

PREVIOUS = {"figures": {"start_ratio": 7.0, "client_ratio": 1.0}}


def test_smoke_run_measures_both_costs_and_compares_with_the_previous_result(tmp_path: Path) -> None:
    (tmp_path / "footprint-20000101-000000.json").write_text(json.dumps(PREVIOUS))
    done = run_benchmark("footprint_bench.py", tmp_path, "--smoke")

    figures = results(tmp_path, "footprint")[-1]["figures"]
    assert len(figures["service_start_cpu_s"]) == len(figures["bare_app_start_cpu_s"]) == 1
    assert figures["service_start_cpu_s"][0] > 0 and figures["bare_app_start_cpu_s"][0] > 0
    assert len(figures["client_cpu_us"]["lean"]) == len(figures["client_cpu_us"]["httpx"]) == 1
    assert figures["start_ratio"] > 0 and figures["client_ratio"] > 0
    assert "compared with footprint-20000101-000000.json" in done.stdout
    assert "service start / bare app   7 -> " in done.stdout
    verdicts = [line.split()[0] for line in done.stdout.splitlines() if line.strip().startswith(("PASS", "FAIL"))]
    assert len(verdicts) == 2
