"""Finished drill runs written through the drill engine's own persistence (journal, results, postmortem draft).

Running two real drills end to end costs minutes (warm-up, detection, a held recovery check); the
curriculum's modules 08 and 09 only read what the engine persisted, so the tests write exactly that with
the engine's code: ``labs.drills.journal`` for the record and ``labs.drills.postmortem`` for the draft.
"""

from __future__ import annotations

import time

from aiops_core.prometheus import Prometheus
from labs.drills import catalogue, postmortem, scoring
from labs.drills import journal as jr
from tests.support.processes import free_port


def finished_run(drill_id: str, injected_at: float | None = None, passed: bool = True) -> jr.Journal:
    """A drill run as the engine leaves it after ``drill check`` passed and ``drill stop``: archived."""
    drill = catalogue.get(drill_id)
    t0 = injected_at or time.time() - 300
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(t0 - 10))
    j = jr.Journal(run_id=f"{drill.id}-{stamp}", drill_id=drill.id, started_at=t0 - 10, injected_at=t0)
    j.add("start", f"drill {drill.id} started", at=t0 - 10)
    j.add("injection", f"fault injected for {drill.id}", at=t0)
    pages = [{"alertname": drill.expected_alerts[0] if drill.expected_alerts else "ModelServiceDown",
              "severity": "page", "summary": "something is wrong", "paged_at": t0 + 40, "resolved_at": t0 + 150,
              "runbook_url": drill.runbooks[-1], "fingerprint": "abc123"}]
    j.acked_at = t0 + 55
    j.add("ack", "learner acknowledged the incident", at=j.acked_at)
    j.add("learner", "config set ... by cli (revert)", at=t0 + 70)
    if passed:
        j.passed_at, j.status = t0 + 120, "passed"
        j.add("passed", "success checks hold: incident mitigated", at=j.passed_at)
        score = scoring.score(j, drill, pages)
        dead = Prometheus(base_url=f"http://127.0.0.1:{free_port()}", timeout=1.0)
        path = postmortem.write(j, drill, score, pages, dead)
        j.result = {"score": score.as_dict(), "postmortem": str(path), "pages": pages}
        jr.record_result({"run_id": j.run_id, "drill": drill.id, "outcome": "passed", "score": score.score,
                          "ttd_s": score.ttd_s, "ttm_s": score.ttm_s, "hints": 0, "wrong_actions": 0,
                          "finished_at": j.passed_at})
    j.stopped_at, j.status = t0 + 130, "stopped"
    j.add("stop", "drill stopped; rolling back", at=j.stopped_at)
    if not passed:
        j.result = {"pages": pages}
        jr.record_result({"run_id": j.run_id, "drill": drill.id, "outcome": "stopped", "score": 0,
                          "finished_at": j.stopped_at})
    jr.archive(j)
    return j
