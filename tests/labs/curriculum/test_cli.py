"""``aiops-lab lab``: list, show, start, reset, progress that survives restarts, and clear errors."""

from __future__ import annotations

import json
import re
import shlex

import pytest

from labs.curriculum import catalogue
from tests.labs.curriculum.conftest import Lab, normal
from tests.support.cli_parse import parse_cli


def test_list_shows_every_module_and_exercise_not_started(offline: Lab) -> None:
    result = offline.run("lab", "list")
    assert result.exit_code == 0, result.output
    for module in catalogue.MODULES:
        assert module.id in result.text
        for ex in module.exercises():
            assert ex.id in result.text
    assert "not started" in result.text and re.search(r"\b0/\d+ exercises done", result.text)


def test_progress_survives_a_restart_and_reset_clears_it(offline: Lab) -> None:
    module = "05-slos-and-error-budgets"
    started = offline.subprocess("lab", "start", "05")
    assert started.returncode == 0, started.stderr
    (offline.workspace(module) / "slo.yaml").write_text(
        "availability: {objective: 0.995, error_budget: 0.005, budget_minutes_30d: 216}\n"
        "latency: {threshold_seconds: 0.25, objective: 0.99, error_budget: 0.01, budget_minutes_30d: 432}\n")
    assert offline.run("lab", "check", "05/define").exit_code == 0  # the budget arithmetic needs no lab

    listed = offline.subprocess("lab", "list")  # a new process: only the saved file carries the progress
    row = next(line for line in listed.stdout.splitlines() if " define " in line)
    assert "done" in row and "not done" not in row, listed.stdout
    assert re.search(r"\b1/\d+ exercises done", normal(listed.stdout))
    saved = json.loads((offline.state / "curriculum" / "progress.json").read_text())
    assert saved["modules"][module]["exercises"]["define"]["done"] is True

    reset = offline.run("lab", "reset", "05-slos-and-error-budgets")
    assert reset.exit_code == 0 and "progress cleared" in reset.text
    after = offline.subprocess("lab", "list")
    assert re.search(r"\b0/\d+ exercises done", normal(after.stdout))
    row = next(line for line in after.stdout.splitlines() if " define " in line)
    assert "not started" in row
    assert (offline.workspace(module) / "slo.yaml").is_file(), "reset keeps the learner's files by default"
    assert offline.run("lab", "reset", "05", "--workspace").exit_code == 0
    assert not offline.workspace(module).exists()


def test_every_module_readme_teaches_and_says_how_it_is_checked() -> None:
    areas = set()
    for module in catalogue.MODULES:
        text = module.readme.read_text()
        for heading in ("## Objectives", "## Background", "## Steps", "## Links"):
            assert heading in text, f"{module.id}: no {heading}"
        assert "check time" in text, f"{module.id}: must say that references are computed at check time"
        assert "https://" in text, f"{module.id}: links to the real tools' docs"
        for area in module.roadmap:
            assert area in catalogue.ROADMAP and f"**{area}**" in text
            areas.add(area)
        for ex in module.exercises():
            assert f"`{ex.id}`" in text, f"{module.id}: exercise {ex.id} is not described"
    assert areas == set(catalogue.ROADMAP), "every roadmap area is served by some module"


def test_start_keeps_the_learners_files_unless_forced(offline: Lab) -> None:
    assert offline.run("lab", "start", "alert-on-it").exit_code == 0
    rules = offline.workspace("03-alert-on-it") / "alert.rules.yml"
    rules.write_text("my work")
    again = offline.run("lab", "start", "3")
    assert again.exit_code == 0 and "kept your alert.rules.yml" in again.text
    assert rules.read_text() == "my work"
    assert offline.run("lab", "start", "03", "--force").exit_code == 0
    assert "PredictLatencyP99High" in rules.read_text()


def test_restart_draws_a_new_seed_and_start_keeps_it(offline: Lab) -> None:
    path = offline.state / "curriculum" / "progress.json"
    offline.run("lab", "start", "06")
    first = json.loads(path.read_text())["modules"]["06-drift"]
    offline.run("lab", "start", "06")
    assert json.loads(path.read_text())["modules"]["06-drift"] == first
    seeds = {first["seed"]}
    for _ in range(3):
        offline.run("lab", "start", "06", "--restart")
        seeds.add(json.loads(path.read_text())["modules"]["06-drift"]["seed"])
    assert len(seeds) > 1


def test_show_prints_readme_path_objectives_and_exercises(offline: Lab) -> None:
    result = offline.run("lab", "show", "05")
    assert result.exit_code == 0, result.output
    assert str(catalogue.find("05").readme) in result.text
    assert "Objectives:" in result.text and "error budget" in result.text
    assert "availability-burn" in result.text and "aiops-lab lab start 05-slos-and-error-budgets" in result.text


def test_unknown_module_and_exercise_are_named_with_the_valid_ones(offline: Lab) -> None:
    unknown = offline.run("lab", "check", "10-kubernetes")
    assert unknown.exit_code == 2
    assert "unknown module '10-kubernetes'" in unknown.text and "01-serve-a-model" in unknown.text
    offline.run("lab", "start", "01")
    bad = offline.run("lab", "check", "01/predict")
    assert bad.exit_code == 2
    assert "no exercise 'predict'" in bad.text and "single-prediction" in bad.text
    assert offline.run("lab", "show", "nope").exit_code == 2


def test_check_before_start_says_how_to_start(offline: Lab) -> None:
    result = offline.run("lab", "check", "02")
    assert result.exit_code == 5
    assert "aiops-lab lab start 02-observe-it" in result.text


def test_checks_that_need_the_lab_name_aiops_lab_up(offline: Lab) -> None:
    offline.run("lab", "start", "02")
    (offline.workspace("02-observe-it") / "queries.yaml").write_text("request_rate: sum(rate(x[1m]))\n")
    result = offline.run("lab", "check", "02/request-rate")
    assert result.exit_code == 3
    assert "the lab is not running" in result.text and "aiops-lab up" in result.text
    traffic = offline.run("lab", "traffic", "06")
    assert traffic.exit_code == 5 and "lab start 06-drift" in traffic.text


def test_damaged_progress_file_is_reported_not_a_traceback(offline: Lab) -> None:
    path = offline.state / "curriculum" / "progress.json"
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    result = offline.run("lab", "list")
    assert result.exit_code == 70 and "is damaged" in result.text and str(path) in result.text


def test_traffic_refused_for_modules_without_a_generator(offline: Lab) -> None:
    result = offline.run("lab", "traffic", "01")
    assert result.exit_code == 2 and "aiops-lab load run" in result.text


def _readme_commands() -> list[tuple[str, str]]:
    found = []
    for readme in [catalogue.MODULES_DIR.parent / "README.md", *(m.readme for m in catalogue.MODULES)]:
        text = readme.read_text()
        spans = re.findall(r"`(aiops-lab [^`]+)`", text)
        spans += [line.split("#")[0] for line in re.findall(r"^\s*(aiops-lab .+)$", text, re.M)]
        found += [(readme.parent.name, " ".join(s.split())) for s in spans if "..." not in s]
    return found


@pytest.mark.parametrize(("where", "command"), _readme_commands(), ids=lambda v: str(v)[:60])
def test_commands_in_the_readmes_parse_with_the_real_cli(where: str, command: str) -> None:
    parse_cli(shlex.split(command)[1:], where)  # raises on an unknown option or a bad choice
