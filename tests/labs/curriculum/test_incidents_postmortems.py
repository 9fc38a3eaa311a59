"""Modules 08 and 09 on drill runs persisted by the drill engine's own code, and the postmortem linter."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from labs.curriculum import postmortem_lint as pl
from labs.drills import journal as jr
from tests.labs.curriculum.conftest import Lab
from tests.labs.curriculum.drill_runs import finished_run

INCIDENTS = "08-incident-response"
POSTMORTEMS = "09-postmortems"


@pytest.fixture
def lab(offline: Lab, monkeypatch: pytest.MonkeyPatch) -> Lab:
    """The drill engine writes under AIOPS_STATE_DIR of *this* process, like the CLI would."""
    for key, value in offline.env.items():
        if key.startswith("AIOPS_"):
            monkeypatch.setenv(key, value)
    return offline


def test_two_different_mitigated_drills_pass_module_08(lab: Lab) -> None:
    assert lab.run("lab", "start", INCIDENTS).exit_code == 0
    soon = time.time() + 15
    finished_run("error-burst", injected_at=soon)
    finished_run("latency-regression", injected_at=soon + 200)
    result = lab.run("lab", "check", INCIDENTS)
    assert result.exit_code == 0, result.output
    assert "passed: error-burst, latency-regression" in result.text


def test_same_drill_twice_old_runs_and_unmitigated_runs_do_not_count(lab: Lab) -> None:
    finished_run("latency-regression", injected_at=time.time() - 3600)  # before the module started
    assert lab.run("lab", "start", INCIDENTS).exit_code == 0
    soon = time.time() + 15
    finished_run("error-burst", injected_at=soon)
    finished_run("error-burst", injected_at=soon + 200)
    finished_run("latency-regression", injected_at=soon + 400, passed=False)
    result = lab.run("lab", "check", f"{INCIDENTS}/two-drills")
    assert result.exit_code == 1
    assert "2 different drills mitigated: passed: error-burst" in result.text
    assert "pick another drill from aiops-lab drill list" in result.text


def test_no_drill_at_all_says_how_to_start_one(lab: Lab) -> None:
    lab.run("lab", "start", INCIDENTS)
    result = lab.run("lab", "check", INCIDENTS)
    assert result.exit_code == 1 and "aiops-lab drill start ID" in result.text


def _complete(text: str) -> str:
    text = text.replace("| Authors | _your name_ |", "| Authors | Alice (on call) |")
    for section, body in (("What went well", "The burn-rate page fired within a minute of the fault."),
                          ("What went wrong", "The change reached all traffic at once, without a canary."),
                          ("Where we got lucky", "Traffic was low."),
                          ("Lessons learned", "Runtime flags are deploys and need the same rollout steps.")):
        text = text.replace(f"## {section}\n\n_..._", f"## {section}\n\n{body}")
    action = "| Canary every flag change for 10 minutes | prevent | platform team | OPS-1 |"
    return text.replace("| _..._ | | | |", action)


@pytest.fixture
def drafted(lab: Lab) -> tuple[Lab, jr.Journal]:
    run = finished_run("error-burst")
    started = lab.run("lab", "start", POSTMORTEMS)
    assert started.exit_code == 0 and f"from the draft of your drill run ({run.run_id})" in started.text
    return lab, run


def test_completed_draft_passes_module_09(drafted: tuple[Lab, jr.Journal]) -> None:
    lab, _ = drafted
    path = lab.workspace(POSTMORTEMS) / "postmortem.md"
    text = _complete(path.read_text())
    text = text.replace("\n## Root cause", "\nEvery row above is the engine's record.\n\n## Root cause")
    path.write_text(text)
    result = lab.run("lab", "check", POSTMORTEMS)
    assert result.exit_code == 0, result.output
    assert "4 key moments at their recorded times" in result.text


def test_untouched_draft_fails_with_the_sections_to_write(drafted: tuple[Lab, jr.Journal]) -> None:
    lab, _ = drafted
    result = lab.run("lab", "check", f"{POSTMORTEMS}/complete")
    assert result.exit_code == 1
    for expected in ("no author named", "section 'What went well' still has a placeholder",
                     "section 'Lessons learned' still has a placeholder", "no action item with a type and an owner"):
        assert expected in result.text


def test_a_moved_page_time_breaks_the_timeline(drafted: tuple[Lab, jr.Journal]) -> None:
    lab, run = drafted
    path = lab.workspace(POSTMORTEMS) / "postmortem.md"
    page_at = time.strftime("%H:%M:%S", time.gmtime(run.result["pages"][0]["paged_at"]))
    earlier = time.strftime("%H:%M:%S", time.gmtime(run.injected_at - 1800))
    path.write_text(_complete(path.read_text()).replace(f"| {page_at} |", f"| {earlier} |"))
    result = lab.run("lab", "check", f"{POSTMORTEMS}/timeline")
    assert result.exit_code == 1
    assert "the first page" in result.text and "is not on the timeline" in result.text
    assert "out of order" in result.text and "lies outside the incident" in result.text


def test_postmortem_of_a_run_that_is_not_on_this_lab(drafted: tuple[Lab, jr.Journal]) -> None:
    lab, run = drafted
    path = lab.workspace(POSTMORTEMS) / "postmortem.md"
    path.write_text(_complete(path.read_text()).replace(run.run_id, "error-burst-20200101-000000"))
    result = lab.run("lab", "check", f"{POSTMORTEMS}/timeline")
    assert result.exit_code == 1 and "no mitigated drill run 'error-burst-20200101-000000'" in result.text


def test_start_without_a_finished_drill_explains_the_order(lab: Lab) -> None:
    started = lab.run("lab", "start", POSTMORTEMS)
    assert started.exit_code == 0 and "no mitigated drill with a postmortem draft yet" in started.text
    result = lab.run("lab", "check", POSTMORTEMS)
    assert result.exit_code == 1 and "postmortem.md does not exist" in result.text


def test_linter_runs_on_its_own(lab: Lab) -> None:
    run = finished_run("error-burst")
    draft = run.result["postmortem"]
    assert pl.main([draft]) == 1
    completed = lab.state / "pm.md"
    completed.write_text(_complete(Path(draft).read_text()))
    assert pl.main([str(completed)]) == 0
    assert pl.main([str(lab.state / "missing.md")]) == 2


def test_linter_rules_on_text() -> None:
    text = "# Postmortem: x\n\n## Summary\n\nok\n\n## Timeline\n\n| time | event |\n| --- | --- |\n| 25:00:00 | x |\n"
    rules = {(f.rule, f.message.split(" ")[0]) for f in pl.lint(text)}
    assert ("authors", "no") in rules
    assert ("section", "section") in rules
    rows, found = pl.timeline(text)
    assert not rows and "does not start with a time" in found[0].message


@pytest.mark.parametrize(("clocks", "out_of_order"), [
    (["23:58:00", "23:59:30", "00:01:00", "00:02:00"], False),  # a timeline that runs past midnight
    (["00:22:00", "23:52:00", "00:24:00"], True),  # a row moved 30 min earlier, across midnight (CI saw this)
    (["10:00:00", "09:30:00", "10:05:00"], True),
    (["23:50:00", "00:10:00", "23:55:00"], True),  # back across midnight
])
def test_timeline_order_is_judged_on_the_clock_circle(clocks: list[str], out_of_order: bool) -> None:
    rows = "".join(f"| {c} | event {i} |\n" for i, c in enumerate(clocks))
    text = f"# Postmortem: x\n\n## Timeline\n\n| time | event |\n| --- | --- |\n{rows}"
    _, found = pl.timeline(text)
    assert any("out of order" in f.message for f in found) is out_of_order, found
