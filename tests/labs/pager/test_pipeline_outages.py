"""The alert path's own outages (``outages.py``), played on the drill pool's labs: a killed pager is noticed
outside it within 60 s, a hung Prometheus pages within 90 s (issue 14)."""

from __future__ import annotations

import pytest

from tests.labs.drills.jobs import DrillPool
from tests.labs.pager.outages import JOBS

pytestmark = pytest.mark.integration


@pytest.mark.pool(JOBS[0].name)
def test_a_killed_pager_is_noticed_outside_it_within_60s_and_recorded_after_its_restart(drill_pool: DrillPool) -> None:
    print(drill_pool.outcome(JOBS[0].name))


@pytest.mark.pool(JOBS[1].name)
def test_a_hung_prometheus_pages_within_90s(drill_pool: DrillPool) -> None:
    print(drill_pool.outcome(JOBS[1].name))
