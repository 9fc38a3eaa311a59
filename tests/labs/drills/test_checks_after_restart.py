"""A drill check on a real Prometheus that was restarted: the old target's ``up`` series outlives it.

Prometheus writes no staleness markers when it shuts down (it expects to come back), so after a restart
the last ``up`` sample of a target that is no longer configured stays visible for the 5-minute lookback.
A learner who fixed monitoring-blind-spot's scrape target and restarted Prometheus saw ``drill check`` fail
for 5 minutes on ``min(up{job="model-service"})``. The checks select the targets scraped in the last
seconds instead, so the fix is credited within the check's hold plus a few scrapes.
"""

from __future__ import annotations

import pytest

from tests.labs.drills.jobs import DrillPool
from tests.labs.drills.restart_check_job import JOBS

pytestmark = pytest.mark.integration


@pytest.mark.pool(JOBS[0].name)
def test_a_restart_leaves_a_stale_up_series_that_the_check_ignores(drill_pool: DrillPool) -> None:
    """Played beside the drill pool's labs (``restart_check_job.py``)."""
    print(drill_pool.outcome(JOBS[0].name))
