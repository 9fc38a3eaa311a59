"""Drill authoring on a real lab, as jobs of the drill pool (``authoring_jobs.py``): ``drill rehearse`` proves
a drill written from the scaffold and rejects broken ones with the failed stage and its reason (an alert that
never fires, a mitigation that does not restore, a stop that leaves state behind); a fault
with ``after:`` starts when due and ``drill stop`` cancels one that is not due yet."""

from __future__ import annotations

import pytest

from tests.labs.drills.jobs import DrillPool

pytestmark = pytest.mark.integration

JOBS = {
    "rehearse_user_drill": "rehearse-proves-a-drill-written-from-the-scaffold",
    "rehearse_rejects_an_alert_that_never_fires": "rehearse-rejects-an-expected-alert-that-never-fires",
    "rehearse_rejects_a_mitigation_that_does_not_restore": "rehearse-rejects-a-mitigation-that-does-not-restore",
    "rehearse_rejects_a_stop_that_leaves_state_behind": "rehearse-rejects-a-stop-that-leaves-state-behind",
    "delayed_fault_starts_later_and_stop_cancels_it": "a-delayed-fault-starts-when-due-and-stop-cancels-it",
    "the_clean_stop_check_names_what_was_left_behind": "the-clean-stop-check-names-a-changed-flag-and-a-paused-process",
}


@pytest.mark.parametrize("job", [pytest.param(job, marks=pytest.mark.pool(job), id=what)
                                 for job, what in JOBS.items()])
def test_authoring_job(drill_pool: DrillPool, job: str) -> None:
    drill_pool.outcome(job)
