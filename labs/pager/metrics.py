"""Every Prometheus metric the pager exports, defined once (the service's live in model_service/metrics.py).

The values are read from the pager's database at scrape time rather than kept in process counters: the
totals then survive a pager restart and always agree with ``GET /pages``. Each app gets its own
``CollectorRegistry``, so several pagers (tests) can live in one process.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from labs.pager.heartbeat import HeartbeatMonitor
from labs.pager.store import PagerStore

NOTIFICATIONS_TOTAL = "aiops_pager_notifications_total"
PAGES_TOTAL = "aiops_pager_pages_total"
ACTIVE_ALERTS = "aiops_pager_active_alerts"
HEARTBEAT_AGE = "aiops_pager_heartbeat_age_seconds"
LAST_HEARTBEAT = "aiops_pager_last_heartbeat_timestamp_seconds"
DRILL_INFO = "aiops_pager_drill_info"

STATUSES = ("firing", "resolved")
# Severity comes from alert labels; anything outside this list is counted as "other" (bounded labels).
SEVERITIES = ("page", "ticket", "critical", "warning", "info", "none")
PREINITIALISED_SEVERITIES = ("page", "ticket")

HELP = {
    NOTIFICATIONS_TOTAL: "Alert notifications received from Alertmanager, by each alert's own status.",
    PAGES_TOTAL: "Pages opened (first firing notification of an alert episode), by severity.",
    ACTIVE_ALERTS: "Alerts currently firing according to the last notification per fingerprint.",
    HEARTBEAT_AGE: "Seconds since the last Watchdog heartbeat (absent until the first one arrives).",
    LAST_HEARTBEAT: "Unix time of the last Watchdog heartbeat (absent until the first one arrives).",
    DRILL_INFO: "The drill that is running (value 1, drill id as label); absent when no drill runs.",
}


def all_metric_names() -> set[str]:
    """Every series name the pager can export (for the rules/dashboards/runbooks cross-check)."""
    return set(HELP)


class PagerCollector(Collector):
    def __init__(self, store: PagerStore, heartbeat: HeartbeatMonitor) -> None:
        self.store = store
        self.heartbeat = heartbeat

    def collect(self) -> Iterable[Metric]:
        counts = self.store.counts()
        notifications = CounterMetricFamily(NOTIFICATIONS_TOTAL, HELP[NOTIFICATIONS_TOTAL], labels=["status"])
        for status in STATUSES:
            notifications.add_metric([status], counts["notifications"].get(status, 0))
        yield notifications

        by_severity = dict.fromkeys(PREINITIALISED_SEVERITIES, 0)
        for severity, n in counts["pages"].items():
            key = severity if severity in SEVERITIES else "other"
            by_severity[key] = by_severity.get(key, 0) + n
        pages = CounterMetricFamily(PAGES_TOTAL, HELP[PAGES_TOTAL], labels=["severity"])
        for severity, n in sorted(by_severity.items()):
            pages.add_metric([severity], n)
        yield pages

        yield GaugeMetricFamily(ACTIVE_ALERTS, HELP[ACTIVE_ALERTS], value=counts["active"]["firing"])

        if self.heartbeat.last_seen is not None:
            yield GaugeMetricFamily(HEARTBEAT_AGE, HELP[HEARTBEAT_AGE], value=self.heartbeat.age() or 0.0)
            yield GaugeMetricFamily(LAST_HEARTBEAT, HELP[LAST_HEARTBEAT], value=self.heartbeat.last_seen)

        drill = GaugeMetricFamily(DRILL_INFO, HELP[DRILL_INFO], labels=["drill"])
        current = self.store.current_drill()
        if current is not None:
            drill.add_metric([current["drill"]], 1)
        yield drill


def build_registry(store: PagerStore, heartbeat: HeartbeatMonitor) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(PagerCollector(store, heartbeat))
    return registry
