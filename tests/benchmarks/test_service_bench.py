"""benchmarks/service_bench.py still runs end to end (a smoke run: no figure is judged here, only that the
benchmark measures every case, writes its result and compares it with the previous one)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.benchmarks.conftest import results, run_benchmark

pytestmark = pytest.mark.integration

PREVIOUS = {"settings": {"note": "an older run"},
            "cases": {"a": {"predictions_per_s": 1000.0, "p99_ms": 5.0}},
            "ratios": {"b/a throughput": [0.5, 0.7]}}


@pytest.fixture(autouse=True)
def _wrk() -> None:
    if shutil.which("wrk") is None:
        pytest.skip("wrk is not installed: sudo apt-get install -y wrk (./lab.sh test installs it)")


def test_smoke_run_measures_every_case_and_compares_with_the_previous_result(tmp_path: Path) -> None:
    (tmp_path / "service-20000101-000000.json").write_text(json.dumps(PREVIOUS))
    done = run_benchmark("service_bench.py", tmp_path, "--smoke")

    result = results(tmp_path, "service")[-1]
    assert [c["rows_per_request"] for c in result["cases"].values()] == [1, 1, 100, 1000]
    assert all(c["runs"][0]["requests"] > 0 for c in result["cases"].values())
    assert {"machine", "versions", "settings", "ratios", "targets"} <= set(result)
    assert result["versions"]["wrk"].startswith("wrk")
    assert result["settings"]["smoke"] is True

    assert "compared with service-20000101-000000.json (an older run)" in done.stdout
    assert "pred/s 1,000 -> " in done.stdout and "ratio b/a throughput" in done.stdout
    verdicts = [line.split()[0] for line in done.stdout.splitlines() if line.strip().startswith(("PASS", "FAIL"))]
    assert len(verdicts) == len(result["targets"]) == 5
