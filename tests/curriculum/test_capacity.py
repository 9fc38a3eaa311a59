"""Module 07 on the shared lab with real Locust: a measured estimate passes, a wild guess fails.

The slowest curriculum test (~2 min): the learner's capacity run, then the check's own bounded run. The
wrong answer reuses that measurement (as a learner fixing a typo would), so it costs nothing.
"""

from __future__ import annotations

import json

import pytest
import yaml

from tests.curriculum.conftest import Lab

pytestmark = pytest.mark.integration
MODULE = "07-load-and-capacity"


def test_07_capacity_estimate_within_the_measured_bracket(live_lab: Lab) -> None:
    lab = live_lab
    assert lab.run("lab", "start", MODULE).exit_code == 0
    missing = lab.run("lab", "check", f"{MODULE}/load-test")
    assert missing.exit_code == 1 and "aiops-lab load run" in missing.text

    measured = lab.run("load", "capacity", "--start-users", "8", "--step", "5s", "--budget", "40s")
    assert measured.exit_code == 0, measured.output
    report = max((lab.state / "reports" / "load").glob("*-capacity/capacity.json"), key=lambda p: p.stat().st_mtime)
    knee = json.loads(report.read_text())["knee"]["rps"]

    answers = lab.workspace(MODULE) / "capacity.yaml"
    answers.write_text(yaml.safe_dump({"max_rps": round(knee)}))
    result = lab.run("lab", "check", MODULE)
    assert result.exit_code == 0, result.output
    assert "measuring the knee now" in result.text and "the knee lies between" in result.text

    answers.write_text(yaml.safe_dump({"max_rps": round(knee * 4)}))
    wrong = lab.run("lab", "check", f"{MODULE}/estimate")
    assert wrong.exit_code == 1, wrong.output
    assert "measuring the knee now" not in wrong.text, "a recent measurement is reused"
    assert "(measured in the last 10 min)" in wrong.text and "aiops-lab load capacity" in wrong.text
