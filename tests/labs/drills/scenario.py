"""One drill end to end on one lab, the way a learner plays it, through the real CLI.

start (briefing printed) -> the page is one of the drill's ``expected_alerts`` (no expected alert: ``drill
ack``) -> ``drill check`` fails -> the debrief's mitigation commands, run as written -> ``drill check``
passes -> ``drill report`` has TTD, TTM and a postmortem draft -> ``drill stop`` restores the clean state.

Everything drill-specific comes from the catalogue at run time (expected alerts, mitigation, checks), so a
drill added later is covered without touching this file. A ``Plan`` only adds what the catalogue cannot
say: extra assertions, a deliberate wrong move, or the manual steps of a mitigation that is not a command.
"""

from __future__ import annotations

import time

from labs.drills import catalogue
from tests.labs.drills.lab import Lab
from tests.labs.drills.plan import DrillResult, Plan, Run
from tests.labs.drills.steps import (
    ack,
    assert_check_fails,
    assert_fault_visible,
    mitigate,
    report,
    start,
    stop_and_assert_clean,
    wait_alerts_clear,
    wait_check_passes,
    wait_for_page,
)
from tests.labs.drills.timing import check_timeout


def play(lab: Lab, drill_id: str, plan: Plan) -> DrillResult:
    """The whole drill; every step asserts what a learner would notice if it went wrong."""
    began = time.monotonic()
    drill = catalogue.get(drill_id)
    run = Run(drill, lab)
    wait_alerts_clear(lab, set(drill.expected_alerts))
    run.phase("wait for the last drill's alerts")
    run.injected_at = start(lab, drill_id, wait=plan.quiet_lab)
    assert_fault_visible(lab, drill)
    if plan.after_start:
        plan.after_start(lab, run)
    run.phase("start")
    if drill.expected_alerts:
        run.page, run.ttd_page_s = wait_for_page(lab, drill, run.injected_at)
    else:
        ack(lab)
        run.page = "ack"
    if plan.after_page:
        plan.after_page(lab, run)
    run.phase("page")
    assert_check_fails(lab)
    if plan.wrong_move:
        plan.wrong_move(lab, run)
    mitigate(lab, run, plan)
    run.phase("mitigate")
    run.check_output = wait_check_passes(lab, drill, check_timeout(drill, plan))
    lab.passed.append(drill_id)
    run.phase("check passes")
    assert "mitigated" in run.check_output and "postmortem draft" in run.check_output, run.check_output
    run.report = report(lab, drill)
    score = run.report["score"]
    assert len(score["wrong_actions"]) == plan.expect_wrong_actions, (
        f"the debrief's mitigation must not be scored as wrong: {score['wrong_actions']}")
    if plan.after_report:
        plan.after_report(lab, run)
    stop_and_assert_clean(lab)
    run.phase("report and stop")
    return DrillResult(drill_id, lab.name, run.page, run.ttd_page_s, score["ttd_s"], score["ttm_s"],
                       score.get("detected_by", ""), score.get("score"), score["wrong_actions"],
                       round(time.monotonic() - began, 1), run.phases)
