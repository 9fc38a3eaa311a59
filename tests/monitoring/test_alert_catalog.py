"""Conventions every alert keeps, its runbook, and its promtool unit-test coverage.

Alerts: PascalCase with a component prefix, `severity` page|ticket (none only for Watchdog), exactly the
annotations summary/description/runbook_url, the current value in the description, a runbook that exists.
Runbooks: one per alert, nothing orphaned, prometheus-operator headings, indexed in the README; the two
runbooks of a lost scrape tell a down service from a blind Prometheus before proposing any fix.
"""

from __future__ import annotations

import re

import pytest

from aiops_core import durations, yaml_text
from model_service import metrics as service_metrics
from monitoring import binaries
from tests.monitoring import catalog

PREFIXES = ("ModelService", "Model", "Drift", "Pager", "Alertmanager")
ALERTS = catalog.alerts()
NAMES = catalog.alert_names()


@pytest.mark.parametrize("rule", ALERTS, ids=lambda r: f"{r.name}-{r.labels.get('long_window', '')}")
def test_alert_has_severity_annotations_and_a_runbook(rule: catalog.Rule) -> None:
    assert re.fullmatch(r"(?:[A-Z][a-z0-9]+)+", rule.name), "PascalCase"
    assert rule.name == "Watchdog" or rule.name.startswith(PREFIXES)
    expected = "none" if rule.name == "Watchdog" else rule.labels.get("severity")
    assert rule.labels.get("severity") in ("page", "ticket", "none")
    assert rule.labels["severity"] == expected
    # Besides severity: the burn-rate windows, and ``reason`` where one alert has two definitions of a cause.
    assert set(rule.labels) - {"severity"} <= {"long_window", "short_window", "reason"}
    assert set(rule.annotations) == {"summary", "description", "runbook_url"}
    assert "$value" in rule.annotations["description"]
    assert "$value" not in rule.annotations["summary"], "summary stays fixed; values go in the description"
    assert rule.annotations["runbook_url"] == f"runbooks/{rule.name}.md"
    assert (catalog.RUNBOOKS_DIR.parent / rule.annotations["runbook_url"]).is_file()


@pytest.mark.parametrize("name", NAMES)
def test_runbook_follows_the_house_structure(name: str) -> None:
    text = (catalog.RUNBOOKS_DIR / f"{name}.md").read_text()
    assert text.startswith(f"# {name}\n")
    positions = [text.find(f"\n{h}\n") for h in catalog.RUNBOOK_HEADINGS]
    assert all(p > 0 for p in positions), f"missing one of {catalog.RUNBOOK_HEADINGS}"
    assert positions == sorted(positions), "sections out of order"
    diagnosis = text[positions[2]:positions[3]]
    assert catalog.code_blocks(diagnosis, "promql") or catalog.code_blocks(diagnosis, "bash")
    mitigation = text[positions[3]:positions[4]]
    assert "aiops-lab " in mitigation, "mitigation names a concrete lever"


def _section(text: str, heading: str) -> str:
    """The body of ``## heading`` up to the next ``## `` heading."""
    start = text.index(f"\n## {heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end > 0 else len(text)]


def _branches(section: str) -> dict[str, str]:
    """``### title`` -> its body, for a section written as alternatives."""
    parts = re.split(r"^### (.+)$", section, flags=re.M)
    return {title.strip(): body for title, body in zip(parts[1::2], parts[2::2], strict=True)}


# Both alerts fire when the service is down AND when Prometheus merely cannot scrape a healthy service (the
# drill monitoring-blind-spot: a config push moved the scrape target). The first moves are opposite, so the
# runbook must tell the two apart before it proposes any fix.
SCRAPE_PATH_ALERTS = ("ModelServiceDown", "ModelServiceMetricsAbsent")


@pytest.mark.parametrize("name", SCRAPE_PATH_ALERTS)
def test_runbook_asks_the_service_itself_before_blaming_it(name: str) -> None:
    text = (catalog.RUNBOOKS_DIR / f"{name}.md").read_text()
    diagnosis = _section(text, "Diagnosis")
    first_command = catalog.code_blocks(diagnosis, "bash")[0]
    assert first_command.startswith("curl ") and "aiops-lab url model-service)/readyz" in first_command, \
        "the first diagnosis step asks the service directly, bypassing Prometheus"
    targets = [b for b in catalog.code_blocks(diagnosis, "bash") if "/api/v1/targets" in b]
    assert targets, "then it shows what Prometheus scrapes"
    for field in ("scrapeUrl", "lastError"):
        assert field in targets[0], f"the targets command shows {field}"
        assert f"`{field}`" in diagnosis, f"and the text says what {field} tells"


@pytest.mark.parametrize("name", SCRAPE_PATH_ALERTS)
def test_runbook_mitigates_each_diagnosis_with_its_own_lever(name: str) -> None:
    text = (catalog.RUNBOOKS_DIR / f"{name}.md").read_text()
    branches = _branches(_section(text, "Mitigation"))
    commands = {title: "\n".join(catalog.code_blocks(body, "bash")) for title, body in branches.items()}
    down = [t for t, c in commands.items() if "aiops-lab service restart model-service" in c]
    blind = [t for t, c in commands.items() if "aiops-lab monitoring render" in c]
    assert down and blind, f"one branch restarts the service, another restores the scrape config: {list(branches)}"
    assert set(down).isdisjoint(blind)
    for title in blind:
        assert "/-/reload" in commands[title], "the hand fix is shown too: edit the rendered copy, reload"
        assert "service restart" not in commands[title], "a healthy service is never restarted"
    assert all("aiops-lab down" not in c for c in commands.values()), "no full lab restart as a first move"


def test_no_orphan_runbooks_and_the_index_lists_every_alert() -> None:
    # The pager raises one page of its own (heartbeat lost); it needs a runbook like any Prometheus alert.
    from labs.pager.heartbeat import ALERTNAME as PAGER_ALERT

    expected = sorted([*NAMES, PAGER_ALERT])
    assert sorted(p.stem for p in catalog.runbook_paths()) == expected
    index = (catalog.RUNBOOKS_DIR / "README.md").read_text()
    for name in expected:
        assert f"[{name}]({name}.md)" in index


def _unit_test_cases() -> dict[str, list[dict]]:
    cases: dict[str, list[dict]] = {}
    for path in sorted(catalog.RULE_TESTS_DIR.glob("*.test.yml")):
        for test in yaml_text.load(path.read_text())["tests"]:
            for case in test.get("alert_rule_test", []):
                cases.setdefault(case["alertname"], []).append(case)
    return cases


@pytest.mark.parametrize("name", NAMES)
def test_every_alert_has_firing_and_silent_unit_tests_with_all_annotations(name: str) -> None:
    cases = _unit_test_cases().get(name, [])
    firing = [a for c in cases for a in c.get("exp_alerts") or []]
    assert firing, f"no promtool case where {name} fires"
    if name != "Watchdog":  # the always-firing alert has no silent case by design
        assert any(c.get("exp_alerts") == [] for c in cases), f"no promtool case where {name} stays silent"
    for alert in firing:
        assert set(alert["exp_annotations"]) == {"summary", "description", "runbook_url"}
        assert "severity" in alert["exp_labels"]
    # Alerts defined several times (the burn-rate window pairs) must fire in a test for each definition.
    for rule in (r for r in ALERTS if r.name == name):
        assert any(all(str(a["exp_labels"].get(k)) == v for k, v in rule.labels.items()) for a in firing), \
            f"{name} {rule.labels} never fires in a unit test"


def test_latency_slo_reads_the_bucket_at_its_threshold() -> None:
    assert service_metrics.LATENCY_SLO_SECONDS in service_metrics.LATENCY_BUCKETS
    latency = [r for r in catalog.rules() if r.name.startswith("slo:sli_error:") and r.labels.get("slo") == "latency"]
    assert latency
    for rule in latency:
        assert f'le="{service_metrics.LATENCY_SLO_SECONDS}"' in rule.expr


def test_retention_covers_the_30_day_budget_window() -> None:
    windows = {m for r in catalog.rules() for m in re.findall(r"\[(\d+[dwy])\]", r.expr)}
    longest = max(durations.parse_ms(w) for w in windows)
    assert longest >= durations.parse_ms("30d")
    assert durations.parse_ms(binaries.RETENTION) > longest
