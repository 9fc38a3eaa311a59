"""Modules 01, 02, 04, 05 and 06 against ONE real lab: scripted correct solutions pass, mistakes fail; and
module 07's capacity lesson. Both are jobs of the drill pool: 01-06 play in order on one of its labs
(``live_job.py``: module 01 deploys the learner's model, 02/04/05 are measured under live traffic with errors
and slow batches, 06 sends its drifted traffic after that stopped); 07 measures the machine's capacity, so it
runs alone on the CPU (``capacity_job.py``). Each test here reports one module.
"""

from __future__ import annotations

import pytest

from tests.labs.curriculum.capacity_job import JOBS as CAPACITY_JOBS
from tests.labs.curriculum.live_job import JOBS as LIVE_JOBS
from tests.labs.curriculum.live_job import MODULES, OK
from tests.labs.drills.jobs import DrillPool

pytestmark = pytest.mark.integration
LIVE = LIVE_JOBS[0].name


@pytest.mark.pool(LIVE)
@pytest.mark.parametrize("module", MODULES)
def test_module_played_on_a_live_lab(drill_pool: DrillPool, module: str) -> None:
    outcome = drill_pool.outcome(LIVE)
    assert isinstance(outcome, dict) and module in outcome, outcome
    if outcome[module] != OK:
        pytest.fail(f"{module}: {outcome[module]}", pytrace=False)


# --- 07 load and capacity: a heavy job of the drill pool, on a lab of its own (capacity_job.py) -------------
@pytest.mark.pool(CAPACITY_JOBS[0].name)
def test_07_load_and_capacity(drill_pool: DrillPool) -> None:
    [job] = CAPACITY_JOBS
    print(drill_pool.outcome(job.name))
