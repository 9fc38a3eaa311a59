"""Answer files: malformed YAML, wrong shapes and wrong types become failed steps that say what to fix."""

from __future__ import annotations

import time

import pytest

from tests.labs.curriculum.conftest import Lab

MODULE = "05-slos-and-error-budgets"
GOOD = """measured_at: 2026-11-25T15:04:05Z
window: 5m
availability: {objective: 0.995, error_budget: 0.005, budget_minutes_30d: 216}
latency: {threshold_seconds: 0.25, objective: 0.99, error_budget: 0.01, budget_minutes_30d: 432}
"""


@pytest.fixture
def lab(offline: Lab) -> Lab:
    assert offline.run("lab", "start", MODULE).exit_code == 0
    return offline


def _check(lab: Lab, text: str | None, exercise: str = "define") -> str:
    path = lab.workspace(MODULE) / "slo.yaml"
    if text is None:
        path.unlink()
    else:
        path.write_text(text)
    result = lab.run("lab", "check", f"{MODULE}/{exercise}")
    assert result.exit_code == 1, result.output
    return result.text


def test_budget_arithmetic_passes_without_a_lab(lab: Lab) -> None:
    (lab.workspace(MODULE) / "slo.yaml").write_text(GOOD)
    result = lab.run("lab", "check", f"{MODULE}/define")
    assert result.exit_code == 0, result.output


def test_starter_file_asks_for_each_value(lab: Lab) -> None:
    text = _check(lab, (lab.workspace(MODULE) / "slo.yaml").read_text())
    assert "latency.threshold_seconds is missing or empty" in text and "fill in" in text


def test_yaml_syntax_error_names_the_line(lab: Lab) -> None:
    text = _check(lab, "window: 5m\navailability:\n  objective: 0.995\n error_budget: [\n")
    assert "slo.yaml is not valid YAML at line" in text and "fix the syntax" in text


def test_a_list_instead_of_a_mapping(lab: Lab) -> None:
    assert "must be a mapping of 'key: value' lines, found list" in _check(lab, "- 0.995\n- 0.99\n")


def test_missing_file_says_how_to_recreate_it(lab: Lab) -> None:
    text = _check(lab, None)
    assert "slo.yaml does not exist" in text and "aiops-lab lab start 05-slos-and-error-budgets" in text


def test_a_word_where_a_number_belongs(lab: Lab) -> None:
    text = _check(lab, GOOD.replace("error_budget: 0.005", "error_budget: half a percent"))
    assert "availability.error_budget: 'half a percent' is not a number" in text


def test_percentages_are_accepted_and_a_wrong_budget_is_explained(lab: Lab) -> None:
    (lab.workspace(MODULE) / "slo.yaml").write_text(GOOD.replace("error_budget: 0.005", "error_budget: 0.5%"))
    assert lab.run("lab", "check", f"{MODULE}/define").exit_code == 0
    text = _check(lab, GOOD.replace("budget_minutes_30d: 216", "budget_minutes_30d: 7.2"))
    assert "availability.budget_minutes_30d: you wrote 7.2" in text and "30 days x 24 h x 60 min" in text


def test_threshold_between_buckets_is_refused(lab: Lab) -> None:
    text = _check(lab, GOOD.replace("threshold_seconds: 0.25", "threshold_seconds: 0.3"))
    assert "0.3 s is not a bucket boundary" in text and "0.25" in text


def test_objective_written_as_a_percentage_number(lab: Lab) -> None:
    assert "99.5 is not a ratio between 0.5 and 1" in _check(lab, GOOD.replace("objective: 0.995", "objective: 99.5"))


def test_measured_at_needs_a_time_zone(lab: Lab) -> None:
    text = _check(lab, GOOD.replace("15:04:05Z", "15:04:05"), exercise="availability-burn")
    assert "measured_at: 2026-11-25 15:04:05 has no time zone" in text and "date +%s" in text


def test_measured_at_must_be_a_time(lab: Lab) -> None:
    text = _check(lab, GOOD.replace("2026-11-25T15:04:05Z", "yesterday"), exercise="latency-burn")
    assert "measured_at: 'yesterday' is not a time" in text


def test_learner_text_with_brackets_is_printed_not_read_as_markup(lab: Lab) -> None:
    text = _check(lab, GOOD.replace("window: 5m", "window: '[/5m]'").replace(
        "2026-11-25T15:04:05Z", str(int(time.time()) + 1)), exercise="availability-burn")
    assert "window: '[/5m]' is not a PromQL duration" in text
