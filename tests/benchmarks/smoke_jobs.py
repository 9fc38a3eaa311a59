"""The benchmarks' smoke runs, as jobs of the drill pool (``test_*_bench.py`` report them).

Each is a separate CPU-bound process that times nothing judged here. In the foreground they ran last, one
after the other, while the pool's last labs finished (~30-50 s with a core left idle); as pool jobs with a
small estimate they run at the end of the pool on a lab that is done, beside the foreground's last tests.
The lab only lends them a directory.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from tests.benchmarks.conftest import results, run_benchmark
from tests.labs.drills.lab import Lab
from tests.labs.drills.pool import Job, Skipped


def _work(lab: Lab, name: str) -> Path:
    work = lab.state.parent / f"bench-{name}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    return work


PREVIOUS_DRIFT = {"figures": {"run_s": {"median": 2.0}, "cpu_s_median": 1.5, "baseline_s_median": 1.0,
                              "rss_drift": 0.0}}


def drift_smoke(lab: Lab) -> str:
    tmp_path = _work(lab, "drift")
    (tmp_path / "drift-20000101-000000.json").write_text(json.dumps(PREVIOUS_DRIFT))
    done = run_benchmark("drift_bench.py", tmp_path, "--smoke")

    figures = results(tmp_path, "drift")[-1]["figures"]
    assert figures["rows"] == figures["reference_rows"] == 1000
    assert len(figures["rss_mib"]) == figures["runs"] == 3
    assert figures["run_s"]["median"] > 0 and figures["baseline_s_median"] > 0
    assert "compared with drift-20000101-000000.json" in done.stdout
    assert re.search(r"steady run median s +2 -> ", done.stdout)
    verdicts = [line.split()[0] for line in done.stdout.splitlines() if line.strip().startswith(("PASS", "FAIL"))]
    assert len(verdicts) == 2
    return "drift_bench.py --smoke ran and compared"


PREVIOUS_FOOTPRINT = {"figures": {"start_ratio": 7.0, "client_ratio": 1.0}}


def footprint_smoke(lab: Lab) -> str:
    tmp_path = _work(lab, "footprint")
    (tmp_path / "footprint-20000101-000000.json").write_text(json.dumps(PREVIOUS_FOOTPRINT))
    done = run_benchmark("footprint_bench.py", tmp_path, "--smoke")

    figures = results(tmp_path, "footprint")[-1]["figures"]
    assert len(figures["service_start_cpu_s"]) == len(figures["bare_app_start_cpu_s"]) == 1
    assert figures["service_start_cpu_s"][0] > 0 and figures["bare_app_start_cpu_s"][0] > 0
    assert len(figures["client_cpu_us"]["lean"]) == len(figures["client_cpu_us"]["httpx"]) == 1
    assert figures["start_ratio"] > 0 and figures["client_ratio"] > 0
    # CPU comes in 10-ms clock ticks: 2 idle seconds of the service can round to 0 (final66). Wake-ups cannot.
    assert set(figures["idle"]) == {"service", "bare"} and figures["idle_ratio"] >= 0
    assert all(f["wakeups_per_s"] > 0 for f in figures["idle"].values())  # every uvicorn loop wakes, at least
    assert "compared with footprint-20000101-000000.json" in done.stdout
    assert "service start / bare app   7 -> " in done.stdout
    verdicts = [line.split()[0] for line in done.stdout.splitlines() if line.strip().startswith(("PASS", "FAIL"))]
    assert len(verdicts) == 3
    return "footprint_bench.py --smoke ran and compared"


PREVIOUS_SERVICE = {"settings": {"note": "an older run"},
                    "cases": {"a": {"predictions_per_s": 1000.0, "p99_ms": 5.0}},
                    "ratios": {"b/a throughput": [0.5, 0.7]}}


def service_smoke(lab: Lab) -> str:
    if shutil.which("wrk") is None:
        raise Skipped("wrk is not installed: sudo apt-get install -y wrk (./lab.sh test installs it)")
    tmp_path = _work(lab, "service")
    (tmp_path / "service-20000101-000000.json").write_text(json.dumps(PREVIOUS_SERVICE))
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
    return "service_bench.py --smoke ran and compared"


# Estimates as measured in the pool's last minutes (the longest-first order puts a job that ends up longer
# than its estimate at the very end of the pool).
JOBS = [Job("benchmark smoke run: drift", drift_smoke, cost_s=40, uses_lab=False),
        Job("benchmark smoke run: footprint", footprint_smoke, cost_s=25, uses_lab=False),
        Job("benchmark smoke run: service", service_smoke, cost_s=30, uses_lab=False)]
