"""A real Alertmanager with the rendered lab-mode config, delivering to a real HTTP receiver on a free port:
the webhook payload (version 4) reaches the right URL per receiver, the Watchdog heartbeat repeats, and a
ModelServiceDown page inhibits the service's burn-rate page. A job of the drill pool (``alertmanager_job.py``),
played beside its heavy jobs; this test reports it.
"""

from __future__ import annotations

import pytest

from tests.labs.drills.jobs import DrillPool
from tests.monitoring.alertmanager_job import JOBS


@pytest.mark.pool(JOBS[0].name)
def test_routing_heartbeat_and_inhibition(drill_pool: DrillPool) -> None:
    print(drill_pool.outcome(JOBS[0].name))
