"""benchmarks/footprint_bench.py still runs end to end (a smoke run: one start each, 100 requests per client, 2 s idle;
no figure is judged here, only that both were measured, written and compared with the previous result). A
job of the drill pool (``smoke_jobs.py``); this test reports it."""

from __future__ import annotations

import pytest

from tests.benchmarks.smoke_jobs import JOBS
from tests.labs.drills.jobs import DrillPool

JOB = JOBS[1].name


@pytest.mark.pool(JOB)
def test_smoke_run_measures_both_costs_and_compares_with_the_previous_result(drill_pool: DrillPool) -> None:
    print(drill_pool.outcome(JOB))
