"""Alertmanager: the config loads (amtool), and every alert the rules can raise reaches the intended receiver.

The routing table is derived from the rules themselves (alert name + severity label), so a new alert is
covered without editing this file, and a severity typo in a rule fails here.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from aiops_core import yaml_text
from monitoring import render
from tests.monitoring import catalog

# The contract with the pager: pages and tickets to /alerts (distinguished by receiver), Watchdog to /heartbeat.
EXPECTED_RECEIVER = {"page": "pager", "ticket": "ticket-queue"}


def _routes_test(amtool: str, config: Path, *labels: str) -> str:
    result = subprocess.run([amtool, "config", "routes", "test", f"--config.file={config}", *labels],
                            capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def _alert_cases() -> list[tuple[str, str, str]]:
    cases = set()
    for rule in catalog.alerts():
        severity = rule.labels["severity"]
        receiver = "watchdog" if rule.name == "Watchdog" else EXPECTED_RECEIVER[severity]
        cases.add((rule.name, severity, receiver))
    return sorted(cases)


def test_source_config_is_valid(amtool: str) -> None:
    result = subprocess.run([amtool, "check-config", str(catalog.ALERTMANAGER_YML)], capture_output=True,
                            text=True, timeout=30, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 inhibit rules" in result.stdout


def test_rendered_config_is_valid(amtool: str, rendered: render.Rendered) -> None:
    result = subprocess.run([amtool, "check-config", str(rendered.alertmanager_yml)], capture_output=True,
                            text=True, timeout=30, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(("alertname", "severity", "receiver"), _alert_cases(),
                         ids=lambda v: str(v))
def test_every_alert_reaches_its_receiver(amtool: str, rendered: render.Rendered, alertname: str, severity: str,
                                          receiver: str) -> None:
    got = _routes_test(amtool, rendered.alertmanager_yml, f"alertname={alertname}", f"severity={severity}")
    assert got == receiver


def test_unknown_severity_still_reaches_a_human_as_a_ticket(amtool: str) -> None:
    assert _routes_test(amtool, catalog.ALERTMANAGER_YML, "alertname=SomethingNew", "severity=critical") == \
        "ticket-queue"


def test_a_page_labelled_watchdog_lookalike_is_not_swallowed_by_the_heartbeat(amtool: str) -> None:
    assert _routes_test(amtool, catalog.ALERTMANAGER_YML, "alertname=WatchdogX", "severity=page") == "pager"


def test_watchdog_repeats_often_and_everything_sends_resolved() -> None:
    am = yaml_text.load(catalog.ALERTMANAGER_YML.read_text())
    watchdog = next(r for r in am["route"]["routes"] if r["receiver"] == "watchdog")
    assert watchdog["repeat_interval"] == "1m"
    for receiver in am["receivers"]:
        for hook in receiver["webhook_configs"]:
            assert hook["send_resolved"] is True, receiver["name"]


def test_service_down_inhibits_its_error_and_latency_alerts() -> None:
    am = yaml_text.load(catalog.ALERTMANAGER_YML.read_text())
    rule = next(r for r in am["inhibit_rules"] if r["source_matchers"] == ['alertname = "ModelServiceDown"'])
    target = rule["target_matchers"][0]
    for name in ("ModelServiceErrorBudgetBurn", "ModelServiceLatencyBudgetBurn", "ModelServiceMetricsAbsent"):
        assert name in target
        assert name in catalog.alert_names()


def test_every_webhook_sends_the_lab_token_read_from_a_file() -> None:
    """The pager refuses writes without the lab's token (labs/pager/auth.py): every webhook must carry it, from
    a file (the token is never written into a config that the status API shows)."""
    am = yaml_text.load(catalog.ALERTMANAGER_YML.read_text())
    for receiver in am["receivers"]:
        for hook in receiver["webhook_configs"]:
            auth = hook["http_config"]["authorization"]
            assert auth["type"] == "Bearer" and "credentials" not in auth, receiver["name"]
            assert auth["credentials_file"], receiver["name"]


def test_a_dead_pager_explains_the_failed_notifications() -> None:
    am = yaml_text.load(catalog.ALERTMANAGER_YML.read_text())
    rule = next(r for r in am["inhibit_rules"] if r["source_matchers"] == ['alertname = "PagerDown"'])
    assert rule["target_matchers"] == ['alertname = "AlertmanagerNotificationsFailing"']
    assert {"PagerDown", "AlertmanagerNotificationsFailing"} <= set(catalog.alert_names())
