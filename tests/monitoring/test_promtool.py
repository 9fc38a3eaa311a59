"""promtool: the configuration and rules load on Prometheus 2.42, pass the linter, and their unit tests pass.

The unit tests (monitoring/prometheus/tests/*.test.yml) hold one firing case, with every label and
annotation, and one silent-or-pending case per alert; test_alert_catalog.py checks that coverage.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from monitoring import render
from tests.monitoring import catalog


def _run(args: list[str]) -> str:
    result = subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{' '.join(args)} failed:\n{output}"
    return output


def test_source_prometheus_config_is_valid(promtool: str) -> None:
    out = _run([promtool, "check", "config", str(catalog.PROMETHEUS_YML)])
    assert f"{len(list(catalog.RULES_DIR.glob('*.yml')))} rule files found" in out


def test_rendered_prometheus_config_is_valid(promtool: str, rendered: render.Rendered) -> None:
    out = _run([promtool, "check", "config", str(rendered.prometheus_yml)])
    assert "SUCCESS" in out and "rule files found" in out


def test_source_rules_pass_the_linter(promtool: str) -> None:
    _run([promtool, "check", "rules", "--lint=all", "--lint-fatal", *map(str, sorted(catalog.RULES_DIR.glob("*.yml")))])


def test_lab_rendered_rules_pass_the_linter(promtool: str, lab_rendered: render.Rendered) -> None:
    files = sorted(lab_rendered.rules_dir.glob("*.yml"))
    assert files
    _run([promtool, "check", "rules", "--lint=all", "--lint-fatal", *map(str, files)])


@pytest.mark.parametrize("test_file", sorted(catalog.RULE_TESTS_DIR.glob("*.test.yml")), ids=lambda p: p.name)
def test_rule_unit_tests_pass(promtool: str, test_file: Path) -> None:
    out = _run([promtool, "test", "rules", str(test_file)])
    assert "SUCCESS" in out


def test_a_broken_expectation_makes_promtool_fail(promtool: str, tmp_path: Path) -> None:
    """Guard against a test harness that always passes: a wrong annotation must be reported."""
    source = (catalog.RULE_TESTS_DIR / "meta-alerts.test.yml").read_text()
    broken = source.replace("../rules/", f"{catalog.RULES_DIR}/").replace("(value 1)", "(value 2)", 1)
    path = tmp_path / "broken.test.yml"
    path.write_text(broken)
    result = subprocess.run([promtool, "test", "rules", str(path)], capture_output=True, text=True, timeout=60,
                            check=False)
    assert result.returncode != 0 and "FAILED" in result.stdout + result.stderr
