"""Module 03 with the real promtool: a correct rule and tests pass; plausible mistakes fail with a reason."""

from __future__ import annotations

import pytest

from tests.labs.curriculum.conftest import Lab

MODULE = "03-alert-on-it"
P99 = ('histogram_quantile(0.99, sum by (le) (rate(aiops_http_request_duration_seconds_bucket{route="/predict"}'
       "[5m]))) > 0.5")
RULE = """groups:
  - name: mine
    rules:
      - alert: PredictLatencyP99High
        expr: {expr}
        for: {for_}
        labels:
          severity: page
        annotations:
          summary: /predict p99 latency is above 500 ms.
          description: "p99 latency of /predict over 5m is {{{{ $value | humanizeDuration }}}}."
          runbook_url: {runbook}
"""
TESTS = """rule_files: [alert.rules.yml]
evaluation_interval: 1m
tests:
  - name: slow predictions page after five minutes
    interval: 1m
    input_series:
      - series: 'aiops_http_request_duration_seconds_bucket{route="/predict",le="0.5"}'
        values: '0+0x20'
      - series: 'aiops_http_request_duration_seconds_bucket{route="/predict",le="1.0"}'
        values: '0+10x20'
      - series: 'aiops_http_request_duration_seconds_bucket{route="/predict",le="+Inf"}'
        values: '0+10x20'
    alert_rule_test:
      - eval_time: 5m
        alertname: PredictLatencyP99High
        exp_alerts: []
      - eval_time: 10m
        alertname: PredictLatencyP99High
        exp_alerts:
          - exp_labels: {severity: page}
            exp_annotations:
              summary: /predict p99 latency is above 500 ms.
              description: "p99 latency of /predict over 5m is 995ms."
              runbook_url: runbooks/ModelServiceLatencyBudgetBurn.md
"""


def write(lab: Lab, expr: str = P99, for_: str = "5m", runbook: str = "runbooks/ModelServiceLatencyBudgetBurn.md",
          tests: str = TESTS) -> None:
    ws = lab.workspace(MODULE)
    (ws / "alert.rules.yml").write_text(RULE.format(expr=expr, for_=for_, runbook=runbook))
    (ws / "alert.test.yml").write_text(tests)


@pytest.fixture
def lab(offline: Lab) -> Lab:
    assert offline.run("lab", "start", MODULE).exit_code == 0
    return offline


def test_starter_files_fail_with_hints(lab: Lab) -> None:
    result = lab.run("lab", "check", MODULE)
    assert result.exit_code == 1
    assert "annotation runbook_url: 'TODO' does not exist" in result.text
    assert "no firing case" in result.text
    assert "FAIL 03-alert-on-it/hidden-tests" in result.text


def test_correct_rule_and_tests_pass_everything(lab: Lab) -> None:
    write(lab)
    result = lab.run("lab", "check", MODULE)
    assert result.exit_code == 0, result.output
    assert result.text.count("hidden case") == 5 and "✗" not in result.output
    assert "3 exercise(s) passed" in result.text


@pytest.mark.parametrize(("expr", "for_", "failing_case", "hint"), [
    ('sum(rate(aiops_http_request_duration_seconds_sum{route="/predict"}[5m])) / '
     'sum(rate(aiops_http_request_duration_seconds_count{route="/predict"}[5m])) > 0.5', "5m",
     "a 3% tail of 3 s requests fires", "not _sum/_count"),
    ("histogram_quantile(0.99, sum by (le) (rate(aiops_http_request_duration_seconds_bucket[5m]))) > 0.5", "5m",
     "slow traffic on other routes", 'filter on route="/predict"'),
    (P99, "2m", "sustained slow /predict fires once for: 5m has elapsed", "firing at 5m where it must stay silent"),
    (P99.replace("0.99", "0.999"), "5m", "a 0.5% tail stays silent", "p99.9"),
])
def test_plausible_wrong_rules_fail_the_hidden_cases(lab: Lab, expr: str, for_: str, failing_case: str,
                                                      hint: str) -> None:
    write(lab, expr=expr, for_=for_)
    result = lab.run("lab", "check", f"{MODULE}/hidden-tests")
    assert result.exit_code == 1
    failed = [line for line in result.output.splitlines() if "✗" in line]
    assert any(failing_case in line for line in failed), result.output
    assert hint in result.text


def test_own_tests_must_pass_and_test_the_learners_rule(lab: Lab) -> None:
    write(lab, tests=TESTS.replace("995ms", "1s"))
    result = lab.run("lab", "check", f"{MODULE}/own-tests")
    assert result.exit_code == 1 and "your tests pass: promtool test rules: FAILED" in result.text
    assert "promtool test rules alert.test.yml" in result.text
    write(lab, tests=TESTS.replace("rule_files: [alert.rules.yml]", "rule_files: [other.yml]"))
    result = lab.run("lab", "check", f"{MODULE}/own-tests")
    assert result.exit_code == 1 and "does not list alert.rules.yml" in result.text


def test_rule_that_does_not_load_or_is_misnamed_is_reported(lab: Lab) -> None:
    write(lab, expr="sum(rate(aiops_http_requests_total[5m])")
    result = lab.run("lab", "check", f"{MODULE}/rule")
    assert result.exit_code == 1 and "promtool check rules" in result.text and "parse error" in result.text
    ws = lab.workspace(MODULE)
    write(lab)
    (ws / "alert.rules.yml").write_text((ws / "alert.rules.yml").read_text().replace("PredictLatencyP99High", "Slow"))
    result = lab.run("lab", "check", f"{MODULE}/rule")
    assert "found 0 (rules in the file: Slow)" in result.text
    write(lab, runbook="runbooks/DoesNotExist.md")
    result = lab.run("lab", "check", f"{MODULE}/rule")
    assert "'runbooks/DoesNotExist.md' does not exist" in result.text


def test_malformed_and_missing_files_are_clear_errors(lab: Lab) -> None:
    ws = lab.workspace(MODULE)
    (ws / "alert.rules.yml").unlink()
    result = lab.run("lab", "check", f"{MODULE}/rule")
    assert result.exit_code == 1 and "alert.rules.yml does not exist" in result.text
    assert "aiops-lab lab start 03-alert-on-it" in result.text
    write(lab)
    (ws / "alert.test.yml").write_text("tests: [\n")
    result = lab.run("lab", "check", f"{MODULE}/own-tests")
    assert result.exit_code == 1 and "alert.test.yml is not valid YAML" in result.text
