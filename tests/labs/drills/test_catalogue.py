"""The drill catalogue: every shipped drill is valid and consistent with the rest of the lab, and a broken
drill file is refused with the file and the field in the message."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from aiops_core import yaml_text
from aiops_core.paths import REPO_ROOT
from labs.drills import catalogue
from labs.drills.catalogue import CatalogueError, load_all, load_file
from labs.drills.schema import GoldenCheck, PromCheck
from labs.pager.heartbeat import ALERTNAME as PAGER_WATCHDOG_ALERT
from model_service import metrics as service_metrics
from monitoring.drift import metrics as drift_metrics

DRILLS = catalogue.load_all()
RULES_DIR = REPO_ROOT / "monitoring" / "prometheus" / "rules"
# Series Prometheus and client libraries add on their own (not defined in the lab's metric modules).
BUILTIN_SERIES = {"up", "scrape_duration_seconds", "process_resident_memory_bytes", "process_cpu_seconds_total",
                  "prometheus_notifications_alertmanagers_discovered", "prometheus_notifications_errors_total"}
REQUIRED_COVERAGE = ("latency-regression", "error-burst", "service-crash", "service-hung", "bad-model-deploy",
                     "covariate-drift", "broken-upstream-feature", "unit-change", "schema-change", "concept-drift",
                     "feedback-stopped", "stale-model", "memory-leak", "traffic-spike", "monitoring-blind-spot")


def _alert_names() -> set[str]:
    names = {PAGER_WATCHDOG_ALERT}
    for path in RULES_DIR.glob("*.yml"):
        for group in yaml_text.load(path.read_text())["groups"]:
            names.update(r["alert"] for r in group["rules"] if "alert" in r)
    return names


def _recording_names() -> set[str]:
    names = set()
    for path in RULES_DIR.glob("*.yml"):
        for group in yaml_text.load(path.read_text())["groups"]:
            names.update(r["record"] for r in group["rules"] if "record" in r)
    return names


def _metric_names(query: str) -> set[str]:
    text = re.sub(r'"[^"]*"', '""', query)
    text = re.sub(r"\{[^}]*\}|\[[^\]]*\]|\b(by|without|on|ignoring)\s*\([^)]*\)", " ", text)
    words = re.findall(r"(?<![\w:.])([A-Za-z_:][\w:]*)(?![\w:])(\s*\()?", text)
    keywords = {"and", "or", "unless", "bool", "by", "without", "offset", "vector", "time"}
    return {w for w, call in words if not call and w not in keywords}


def test_the_catalogue_has_at_least_twelve_drills_covering_the_required_incidents() -> None:
    assert len(DRILLS) >= 12
    assert set(REQUIRED_COVERAGE) <= set(DRILLS)


@pytest.mark.parametrize("drill_id", sorted(DRILLS))
def test_drill_references_exist(drill_id: str) -> None:
    drill = DRILLS[drill_id]
    assert set(drill.expected_alerts) <= _alert_names(), "expected alerts must be real rules"
    for runbook in drill.runbooks:
        assert (REPO_ROOT / runbook).is_file(), f"{runbook} is missing"
    guide = (REPO_ROOT / drill.runbooks[0]).read_text()
    for alert in drill.expected_alerts:
        assert f"../{alert}.md" in guide, f"the drill guide must link the runbook of {alert}"
    assert f"aiops-lab drill start {drill.id}" in guide


@pytest.mark.parametrize("drill_id", sorted(DRILLS))
def test_drill_checks_query_metrics_that_exist(drill_id: str) -> None:
    known = (service_metrics.all_metric_names() | drift_metrics.all_metric_names() | BUILTIN_SERIES
             | _recording_names())
    for check in DRILLS[drill_id].checks:
        if isinstance(check, PromCheck):
            assert _metric_names(check.query) <= known, check.query


@pytest.mark.parametrize("drill_id", sorted(DRILLS))
def test_briefings_do_not_spoil_the_cause(drill_id: str) -> None:
    """The briefing tells symptoms; the fault's own vocabulary (flag names, corruption names) is the answer."""
    drill = DRILLS[drill_id]
    spoilers = set()
    for fault in drill.faults:
        spoilers.update(str(v) for k, v in fault.model_dump().items()
                        if k in ("flag", "corruption", "scenario") and v)
    for word in spoilers:
        assert word not in drill.briefing, f"the briefing names {word!r}"
    assert not any(isinstance(c, GoldenCheck) and c.scenario not in ("normal",) and c.scenario in drill.briefing
                   for c in drill.checks)


def test_every_accepted_action_names_a_known_lever() -> None:
    prefixes = ("config:", "model:", "restart:", "upstream:", "monitoring:", "silence:")
    for drill in DRILLS.values():
        for pattern in drill.accepted_actions:
            assert pattern.startswith(prefixes), f"{drill.id}: {pattern}"


GOOD = (REPO_ROOT / "labs" / "drills" / "catalogue" / "error-burst.yml").read_text()


def _write(tmp_path: Path, text: str, name: str = "error-burst.yml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(("change", "expected"), [
    (("flag: error_ratio", "flag: error_rate"), "faults.0: flag: unknown flag 'error_rate'"),
    (("value: 0.6", "value: 7"), "faults.0: value: 7 is not valid for error_ratio"),
    (("type: config_flag", "type: confg_flag"), "faults.0: Input tag 'confg_flag' found using 'type' does not match"),
    (("hold: 10s", "hold: soon"), "checks.0.hold: 'soon' is not a duration"),
    (("difficulty: easy", "difficulty: trivial"), "difficulty: Input should be 'easy', 'medium' or 'hard'"),
    (("trains: [sre-slo-burn, sre-change-rollback]", "trains: [slo]"), "trains: unknown tag 'slo'"),
    (("op: \"<\"", "op: \"=<\""), "checks.0.op:"),
])
def test_a_malformed_drill_names_the_file_and_the_field(tmp_path: Path, change: tuple[str, str], expected: str) -> None:
    old, new = change
    assert old in GOOD
    path = _write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(CatalogueError) as info:
        load_file(path)
    message = str(info.value)
    assert str(path) in message
    assert expected in message, message


def test_a_missing_field_and_an_unknown_field_are_both_named(tmp_path: Path) -> None:
    text = GOOD.replace("estimated_minutes: 10\n", "").replace("difficulty: easy", "difficulty: easy\nowner: me")
    with pytest.raises(CatalogueError) as info:
        load_file(_write(tmp_path, text))
    assert "estimated_minutes: Field required" in str(info.value)
    assert "owner: Extra inputs are not permitted" in str(info.value)


def test_the_file_name_must_match_the_id(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match=r"other\.yml: id: 'error-burst' must equal the file name"):
        load_file(_write(tmp_path, GOOD, "other.yml"))


def test_invalid_yaml_and_all_broken_files_are_reported_together(tmp_path: Path) -> None:
    _write(tmp_path, "id: [unclosed", "a.yml")
    _write(tmp_path, GOOD.replace("flag: error_ratio", "flag: nope"))
    with pytest.raises(CatalogueError) as info:
        load_all(tmp_path)
    assert "a.yml: not valid YAML" in str(info.value)
    assert "error-burst.yml: faults.0: flag: unknown flag 'nope'" in str(info.value)


def test_unknown_id_lists_the_valid_ids() -> None:
    with pytest.raises(KeyError) as info:
        catalogue.get("nope")
    assert "valid ids: " in str(info.value) and "service-crash" in str(info.value)


def test_names_from_heavy_modules_are_checked_deeply(tmp_path: Path) -> None:
    """``drill list`` skips the scenario/corruption names (pandas, scikit-learn); start and tests do not."""
    text = (REPO_ROOT / "labs" / "drills" / "catalogue" / "unit-change.yml").read_text()
    path = _write(tmp_path, text.replace("change: {scenario: unit-error}", "change: {scenario: unit-errror}"),
                  "unit-change.yml")
    assert load_file(path, deep=False).id == "unit-change"
    with pytest.raises(CatalogueError, match=r"unit-change\.yml: faults\.0\.change\.scenario: unknown data "
                                             r"scenario 'unit-errror'"):
        load_file(path)
    bad = (REPO_ROOT / "labs" / "drills" / "catalogue" / "bad-model-deploy.yml").read_text()
    path = _write(tmp_path, bad.replace("corruption: labels-shuffled", "corruption: labels"), "bad-model-deploy.yml")
    with pytest.raises(CatalogueError, match=r"faults\.0\.corruption: unknown corruption 'labels'"):
        load_file(path)


def test_validating_every_drill_deeply_imports_no_numeric_or_ml_library() -> None:
    """``drill start`` validates its drill deeply; on a busy laptop importing scikit-learn for a corruption
    name (or pandas for a scenario name) cost seconds of it. Names live in plain modules."""
    heavy = ("pandas", "numpy", "sklearn", "skops", "scipy", "evidently")
    probe = ("import sys\nfrom labs.drills import catalogue\n"
             "for d in catalogue.catalogue(): catalogue.get(d, deep=True)\n"
             f"print(' '.join(m for m in {heavy!r} if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "", f"deep validation imported: {done.stdout.strip()}"
