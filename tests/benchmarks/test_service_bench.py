"""benchmarks/service_bench.py still runs end to end (a smoke run: no figure is judged here, only that the
benchmark measures every case, writes its result and compares it with the previous one). A job of the drill
pool (``smoke_jobs.py``); this test reports it."""

from __future__ import annotations

import pytest

from tests.benchmarks.smoke_jobs import JOBS
from tests.labs.drills.jobs import DrillPool

JOB = JOBS[2].name


@pytest.mark.pool(JOB)
def test_smoke_run_measures_every_case_and_compares_with_the_previous_result(drill_pool: DrillPool) -> None:
    print(drill_pool.outcome(JOB))
