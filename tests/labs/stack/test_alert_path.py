"""The whole alerting path for real (``alert_path.py``), played on one of the drill pool's labs."""

from __future__ import annotations

import pytest

from tests.labs.drills.jobs import DrillPool
from tests.labs.stack.alert_path import JOBS

pytestmark = pytest.mark.integration


@pytest.mark.pool(JOBS[0].name)
def test_error_burst_pages_and_resolves(drill_pool: DrillPool) -> None:
    [job] = JOBS
    print(drill_pool.outcome(job.name))
