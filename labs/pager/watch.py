"""Watching the alert path from outside the pager: is anything there to deliver a page to?

The pager is the path's last hop and Alertmanager's only receiver, so its own dead-man's switch dies with it
(``kill -9`` the pager: no page, no heartbeat alarm, nothing). This watch asks each component itself,
over HTTP, and never needs the pager to answer:

* the pager's ``/healthz`` (dead or hung: no answer within the timeout), then its heartbeat status;
* Alertmanager's own alert list, for the alerts about the path (``PagerDown``,
  ``AlertmanagerNotificationsFailing``: they fire in Prometheus and wait in Alertmanager, undeliverable);
* Alertmanager's ``alertmanager_notifications_failed_total``, read directly: failures in the last
  ``failure_window_s`` (a pager that answers but refuses Alertmanager's token fails here too);
* Prometheus's and Alertmanager's readiness (a hung Prometheus answers nothing).

``aiops-lab pager watch`` runs it in a loop and rings the terminal bell on each new problem.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass

import httpx
from prometheus_client.parser import text_string_to_metric_families

from aiops_core import http as lab_http
from aiops_core.http import component_problem

# The alerts about the alert path itself (monitoring/prometheus/rules/meta-alerts.yml).
PATH_ALERTS = ("PagerDown", "AlertmanagerNotificationsFailing")
FAILED_NOTIFICATIONS = "alertmanager_notifications_failed_total"


@dataclass(frozen=True)
class Finding:
    """One thing wrong with the alert path. ``key`` stays the same while the problem lasts."""

    key: str
    message: str


class PathWatch:
    """Checks the alert path once per ``check()``; keeps the failure counter's recent history between calls."""

    def __init__(self, pager_url: str, alertmanager_url: str, prometheus_url: str, timeout_s: float = 2.0,
                 failure_window_s: float = 60.0) -> None:
        self.pager_url = pager_url.rstrip("/")
        self.alertmanager_url = alertmanager_url.rstrip("/")
        self.prometheus_url = prometheus_url.rstrip("/")
        self.timeout_s = timeout_s
        self.failure_window_s = failure_window_s
        self._failures: deque[tuple[float, float]] = deque()  # (monotonic time, counter value)

    def check(self) -> list[Finding]:
        return [*self._pager(), *self._alertmanager(), *self._prometheus()]

    def _get(self, url: str) -> httpx.Response:
        return lab_http.get(url, timeout=self.timeout_s)

    def _pager(self) -> list[Finding]:
        problem = component_problem("pager", self.pager_url + "/healthz", self.timeout_s)
        if problem is not None:
            return [Finding("pager-down", f"the pager at {self.pager_url} does not answer ({problem}): no page "
                            "can be delivered; restart it: aiops-lab service restart pager")]
        try:
            beat = self._get(self.pager_url + "/heartbeat").json()
        except (httpx.HTTPError, ValueError):
            return []
        if beat.get("last_seen") is not None and not beat.get("healthy"):
            return [Finding("heartbeat-missing", f"no Watchdog heartbeat at the pager for {beat['age_seconds']:.0f}s "
                            f"(timeout {beat['timeout_seconds']:g}s): Prometheus or Alertmanager is not delivering")]
        return []

    def _alertmanager(self) -> list[Finding]:
        problem = component_problem("alertmanager", self.alertmanager_url + "/-/ready", self.timeout_s)
        if problem is not None:
            return [Finding("alertmanager-down", f"Alertmanager at {self.alertmanager_url} does not answer "
                            f"({problem}): alerts firing in Prometheus reach no one")]
        findings = []
        try:
            alerts = self._get(self.alertmanager_url + "/api/v2/alerts").json()
        except (httpx.HTTPError, ValueError):
            alerts = []
        for alert in alerts:
            labels = alert.get("labels", {})
            name = labels.get("alertname", "")
            if name not in PATH_ALERTS:
                continue
            # Silenced or inhibited, it is still true: the watch reports it, and says so.
            status = alert.get("status", {})
            muted = " (silenced)" if status.get("silencedBy") else " (inhibited)" if status.get("inhibitedBy") else ""
            detail = labels.get("integration") or labels.get("instance") or ""
            where = f" ({detail})" if detail else ""
            summary = alert.get("annotations", {}).get("summary", "")
            findings.append(Finding(f"alert:{name}:{detail}", f"{name}{muted} fires in Alertmanager{where}: {summary}"))
        failed = self._recent_failures()
        if failed:
            findings.append(Finding("notifications-failing", f"Alertmanager failed {failed:g} notification(s) in "
                                    f"the last {self.failure_window_s:g}s (after retrying each): pages are being lost"))
        return findings

    def _recent_failures(self) -> float:
        """How much ``alertmanager_notifications_failed_total`` (all integrations) grew within the window."""
        try:
            text = self._get(self.alertmanager_url + "/metrics").text
        except httpx.HTTPError:
            return 0.0
        total = sum(sample.value for family in text_string_to_metric_families(text)
                    for sample in family.samples if sample.name == FAILED_NOTIFICATIONS)
        now = time.monotonic()
        history = self._failures
        if history and total < history[-1][1]:
            history.clear()  # Alertmanager restarted: its counters start again from 0
        history.append((now, total))
        while len(history) > 1 and history[1][0] <= now - self.failure_window_s:
            history.popleft()
        return total - history[0][1]

    def _prometheus(self) -> list[Finding]:
        problem = component_problem("prometheus", self.prometheus_url + "/-/ready", self.timeout_s)
        if problem is None:
            return []
        return [Finding("prometheus-down", f"Prometheus at {self.prometheus_url} does not answer ({problem}): no "
                        "alert rule is evaluated; check it: aiops-lab status")]
