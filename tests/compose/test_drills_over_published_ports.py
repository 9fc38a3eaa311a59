"""The drill engine over published ports, as it drives the compose stack (the jobs and why they stand in
for a compose project: ``published_ports.py``). Each test reports one job the drill pool played."""

from __future__ import annotations

import pytest

from tests.compose.published_ports import JOBS
from tests.labs.drills.jobs import DrillPool

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("job", [pytest.param(j.name, marks=pytest.mark.pool(j.name)) for j in JOBS])
def test_over_published_ports(drill_pool: DrillPool, job: str) -> None:
    drill_pool.outcome(job)
