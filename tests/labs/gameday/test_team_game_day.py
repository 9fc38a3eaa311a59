"""A team plays a real drill as a game day (``team_job.py``), on one of the drill pool's labs."""

from __future__ import annotations

import pytest

from tests.labs.drills.jobs import DrillPool
from tests.labs.gameday.team_job import JOBS

pytestmark = pytest.mark.integration


@pytest.mark.pool(JOBS[0].name)
def test_a_team_plays_error_burst_and_gets_a_debrief_per_role(drill_pool: DrillPool) -> None:
    [job] = JOBS
    print(drill_pool.outcome(job.name))
