"""A real Prometheus (lab-mode config from the renderer) scraping the real model service under a burst of
real traffic: targets up, every rule healthy, every recording rule has data, every runbook query and curl
command works, and a killed service pages within seconds. A job of the drill pool (``prometheus_job.py``),
played beside its heavy jobs; this test reports it.
"""

from __future__ import annotations

import pytest

from tests.labs.drills.jobs import DrillPool
from tests.monitoring.prometheus_job import JOBS


@pytest.mark.pool(JOBS[0].name)
def test_lab_prometheus_against_the_live_service(drill_pool: DrillPool) -> None:
    print(drill_pool.outcome(JOBS[0].name))
