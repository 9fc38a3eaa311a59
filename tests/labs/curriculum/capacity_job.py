"""Module 07 (load and capacity) played on one of the drill pool's labs, alone on the CPU.

A capacity lesson measures the machine: its knee means something only when nothing else competes for the
CPU, and its Locust runs would swamp the 1-minute windows of any other lesson sharing its lab. So it is a
*heavy* job of the drill pool (``tests/labs/drills/pool.py``): it gets a lab of its own and runs with every
other process-starting test held back. The learner's commands run as subprocesses (a pool job runs in a
worker thread, where click's in-process runner is not safe). ``test_live.py`` reports the outcome.
"""

from __future__ import annotations

import json
import re
import subprocess
import time

import yaml

from tests.labs.drills.lab import Lab
from tests.labs.drills.pool import Job
from tests.support.lab import normal

CAPACITY = "07-load-and-capacity"


def _run(lab: Lab, *args: str) -> tuple[int, str, str]:
    done: subprocess.CompletedProcess[str] = lab.cli(*args, timeout=300)
    return done.returncode, normal(done.stdout + done.stderr), done.stdout + done.stderr


def load_and_capacity(lab: Lab) -> str:
    try:
        return _load_and_capacity(lab)
    finally:  # Locust's requests are in the lab's prediction log: a retrain's window must not take them
        lab.traffic_stopped_at = time.time()


def _load_and_capacity(lab: Lab) -> str:
    code, _, out = _run(lab, "lab", "start", CAPACITY)
    assert code == 0, out
    code, text, out = _run(lab, "lab", "check", f"{CAPACITY}/load-test")
    assert code == 1 and "aiops-lab load run" in text, out

    # the learner measures with quick steps (the README suggests twice and the higher knee; once is enough
    # here: a knee a step low is the case the check's bracket below is for)
    knee = _quick_knee(lab)

    answers = lab.state / "workspace" / CAPACITY / "capacity.yaml"
    answers.write_text(yaml.safe_dump({"max_rps": round(knee)}))
    code, text, out = _run(lab, "lab", "check", CAPACITY)
    assert "measuring the knee now" in text and "the knee lies between" in text, out
    too_high = round(knee * 4)  # far outside the bracket around a knee the check agreed with
    if code != 0:
        # A quick stepped run can land a whole step below the check's own measurement (which re-runs a
        # breaching step). Then the learner reads the bracket the check printed and answers inside it; the
        # measurement is reused, so this second check must pass.
        bracket = re.search(r"(\d+)-(\d+) passes", text)
        assert bracket is not None, out
        low, high = int(bracket.group(1)), int(bracket.group(2))
        if knee < low / 2.5:
            # One 5-s step's p99 is the ~7 slowest of ~700 requests: a stall elsewhere on a shared machine can
            # breach it (final65: 32 users at p99 280 ms, a knee of 102 rps against the check's 587). The FAIL's
            # hint says to measure again with nothing else loading the machine; the learner keeps the higher.
            knee = max(knee, _quick_knee(lab))
        assert knee >= low / 2.5, f"load capacity measured {knee} rps, far below the check's bracket {low}-{high}"
        answers.write_text(yaml.safe_dump({"max_rps": (low + high) // 2}))
        too_high = 2 * high  # the learner's knee can be far below the check's (beside busy CPU hogs: 283 rps
        # against 709-973), so 4x it can land inside the bracket
        code, text, out = _run(lab, "lab", "check", CAPACITY)
        assert "measuring the knee now" not in text, "a recent measurement is reused"
    assert code == 0, out

    answers.write_text(yaml.safe_dump({"max_rps": too_high}))
    code, text, out = _run(lab, "lab", "check", f"{CAPACITY}/estimate")
    assert code == 1, out
    assert "measuring the knee now" not in text, "a recent measurement is reused"
    assert "(measured in the last 10 min)" in text and "aiops-lab load capacity" in text
    return f"knee {knee:.0f} rps"


def _quick_knee(lab: Lab) -> float:
    """The learner's quick stepped run (5-s steps): the knee it reports, in requests per second."""
    code, _, out = _run(lab, "load", "capacity", "--start-users", "16", "--max-users", "256", "--step", "5s",
                        "--budget", "60s")
    assert code == 0, out
    report = max((lab.state / "reports" / "load").glob("*-capacity/capacity.json"), key=lambda p: p.stat().st_mtime)
    return float(json.loads(report.read_text())["knee"]["rps"])


JOBS = [Job("curriculum: 07 load and capacity", load_and_capacity, cost_s=120, heavy=True)]
