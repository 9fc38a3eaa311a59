"""Every drill of the catalogue end to end, against real native labs in lab mode, through the learner's CLI.

A pool of private labs plays the drills side by side (``pool.py``, jobs in ``jobs.py``); each drill is one
named test here, failing with the drill's own assertion and the last CLI outputs of its lab. The pool starts
with the session (``tests/conftest.py``) and these tests run last, so most outcomes are ready when asked.
"""

from __future__ import annotations

import pytest

from tests.labs.drills.jobs import DRILLS, DrillPool

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("drill_id", [pytest.param(d, marks=pytest.mark.pool(d)) for d in DRILLS])
def test_drill_end_to_end(drill_pool: DrillPool, drill_id: str) -> None:
    drill_pool.outcome(drill_id)


# Jobs besides the drills (jobs.py): the id says what each proves.
OTHER_JOBS = {
    "cli_errors": "cli-lists-drills-and-names-errors",
    "killed_mid_start_then_best_scores": "stop-cleans-up-after-the-cli-died-mid-start-and-best-scores-show",
    "guide_commands": "every-promql-and-curl-in-the-drill-guides-runs-against-a-lab",
    "stop_after_down": "stop-restores-the-state-on-disk-when-the-lab-is-gone",
}


@pytest.mark.parametrize("job", [pytest.param(job, marks=pytest.mark.pool(job), id=what)
                                 for job, what in OTHER_JOBS.items()])
def test_other_drill_job(drill_pool: DrillPool, job: str) -> None:
    drill_pool.outcome(job)
