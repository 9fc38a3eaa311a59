"""Incident dashboard: what is firing, what paged, what changed, and which drill is running.

During a drill this is the screen to keep open: alerts and pages on top, changes (the usual cause) below,
the user-facing symptoms at the bottom.
"""

from __future__ import annotations

from typing import Any

from dashgen import promql as q
from dashgen.panels import (
    RATE,
    Grid,
    annotation,
    dashboard,
    datasource_variable,
    stat,
    table,
    target,
    targets,
    thresholds,
)
from dashgen.panels import timeseries as ts
from monitoring.heartbeat import HEARTBEAT_TIMEOUT_S

UID = "aiops-incident"
# The pager's default timeout (a panel cannot read the running pager's setting).


def build() -> dict[str, Any]:
    g = Grid()
    g.add(stat("Firing alerts", "Alerts firing in Prometheus now (the always-firing Watchdog excluded).",
               "short", targets((f"count({q.FIRING_ALERTS_EXPR}) or vector(0)", "firing")),
               thresholds(("green", None), ("red", 1))), 4, 4)
    g.add(stat("Drill running", "The drill the lab pager says is running (aiops_pager_drill_info); empty "
               "when none is.", "none", targets(("aiops_pager_drill_info", "{{drill}}")), text_mode="name",
               noValue="no drill"), 6, 4)
    g.add(stat("Pages in the last hour", "Pages the lab pager opened (first firing notification of an alert "
               "episode; repeats are not pages).", "short",
               targets(("sum(increase(aiops_pager_pages_total[1h]))", "pages")),
               thresholds(("green", None), ("orange", 1))), 5, 4)
    g.add(stat("Alerts firing at the pager", "Alerts whose last notification to the pager said firing.",
               "short", targets(("aiops_pager_active_alerts", "firing")), thresholds(("green", None), ("red", 1))),
          4, 4)
    g.add(stat("Watchdog heartbeat age", "Seconds since Alertmanager's Watchdog last reached the pager. Past "
               f"the pager's timeout ({HEARTBEAT_TIMEOUT_S} s by default) the pager pages "
               "WatchdogHeartbeatMissing: alerts are not being delivered.", "s",
               targets(("aiops_pager_heartbeat_age_seconds", "age")),
               thresholds(("green", None), ("orange", HEARTBEAT_TIMEOUT_S / 2), ("red", HEARTBEAT_TIMEOUT_S))), 5, 4)

    g.add(table("Firing alerts (details)", "Every firing alert with its labels (from the ALERTS series). Open the "
                "runbook named in the alert's runbook_url annotation in Alertmanager or `aiops-lab pager list`.",
                [target(q.FIRING_ALERTS_EXPR, instant=True, table=True)]), 24, 7)

    g.add(ts("Pages by severity", "Pages opened by the pager, per 5 minutes, by severity.", "short",
             targets(("sum by (severity) (increase(aiops_pager_pages_total[5m]))", "{{severity}}"))), 12, 8)
    g.add(ts("Notifications received", "Alertmanager notifications per second reaching the pager, by each "
             "alert's status (repeats included).", "cps",
             targets((f"sum by (status) (rate(aiops_pager_notifications_total[{RATE}]))", "{{status}}"))), 12, 8)

    g.add(ts("Config changes", "Runtime config changes per 5 minutes, by flag: the most common cause of an "
             "incident. `aiops-lab config history` says who changed what and why.", "short",
             targets(("sum by (flag) (increase(aiops_config_changes_total[5m]))", "{{flag}}"))), 8, 8)
    g.add(ts("Model deploys and rollbacks", "Model activations per 5 minutes, by action.", "short",
             targets(("sum by (action) (increase(aiops_model_deployments_total[5m]))", "{{action}}"))), 8, 8)
    g.add(ts("Config flag values", "Current value of every runtime flag (enum flags as their index): a "
             "step here is a change in behaviour.", "short", targets(("aiops_config_flag", "{{flag}}"))), 8, 8)

    g.add(ts(f"Symptom: {q.SLO_ROUTE} 5xx ratio", "User-facing errors against the error budget of the "
             f"{q.SLO_TARGET:.1%} availability SLO.", "percentunit",
             targets((q.slo_error_ratio(RATE), "5xx ratio")),
             thresholds(("green", None), ("red", q.ERROR_BUDGET)), threshold_lines=True), 12, 8)
    g.add(ts(f"Symptom: {q.SLO_ROUTE} p99 latency", "User-facing latency against the 250 ms SLO threshold.", "s",
             targets((q.latency_quantile(0.99, f'route="{q.SLO_ROUTE}"'), "p99 {{route}}")),
             thresholds(("green", None), ("red", float(q.LATENCY_LE))), threshold_lines=True), 12, 8)

    annotations = [*q.change_annotations(),
                   annotation("Drills", q.DRILL_EXPR, "drill running: {{drill}}", "drill", "blue")]
    return dashboard(UID, "aiops-lab / Incident: alerts, pages, changes",
                     "What is firing, what paged, what changed and which drill runs: keep it open during a drill.",
                     ["incident", "alerts"], g, [datasource_variable()], annotations)
