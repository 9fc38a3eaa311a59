"""The PromQL the dashboards share: the SLO, its burn rates, and the change/alert annotations.

Expressions are written against the raw metrics (model_service/metrics.py) rather than recording rules so
a dashboard works on any Prometheus that scrapes the service, and shows 0 rather than "No data" when
nothing failed (``or ... * 0``): an empty error panel during an incident looks like a broken dashboard.
"""

from __future__ import annotations

from prometheus_client.utils import floatToGoString

from dashgen.panels import RATE, annotation
from model_service.metrics import LATENCY_SLO_SECONDS

# Availability SLO of the prediction API: 99.5% of /predict requests answer without a 5xx, over 30 days.
SLO_ROUTE = "/predict"
SLO_TARGET = 0.995
ERROR_BUDGET = round(1 - SLO_TARGET, 6)
SLO_WINDOW = "30d"
# Latency SLI: the bucket boundary at exactly the threshold, as prometheus_client renders it.
LATENCY_LE = floatToGoString(LATENCY_SLO_SECONDS)
# SRE Workbook multi-window burn-rate thresholds for a 30-day SLO: page at 14.4x (1h), 6x (6h).
BURN_PAGE_1H = 14.4
BURN_PAGE_6H = 6.0

REQUESTS = "aiops_http_requests_total"
DURATION = "aiops_http_request_duration_seconds"


def error_ratio(selector: str, window: str = RATE, by: str = "") -> str:
    """5xx share of requests matching ``selector``; 0 (not empty) when there were no 5xx at all."""
    agg = f"sum by ({by}) " if by else "sum"
    total = f"{agg}(rate({REQUESTS}{{{selector}}}[{window}]))"
    errors = f'{agg}(rate({REQUESTS}{{{selector}, status=~"5.."}}[{window}]))'
    return f"({errors} or {total} * 0) / {total}"


def slo_error_ratio(window: str) -> str:
    return error_ratio(f'route="{SLO_ROUTE}"', window)


def burn_rate(window: str) -> str:
    """How fast the error budget burns: 1 = exactly on budget for the whole SLO window."""
    return f"{slo_error_ratio(window)} / {ERROR_BUDGET}"


def budget_remaining() -> str:
    """Share of the 30-day error budget still unspent (negative: SLO missed). Needs 30 days of retention;
    until then it covers the data there is."""
    return f"1 - ({slo_error_ratio(SLO_WINDOW)}) / {ERROR_BUDGET}"


def latency_quantile(q: float, selector: str, by: str = "route") -> str:
    return f"histogram_quantile({q}, sum by (le, {by}) (rate({DURATION}_bucket{{{selector}}}[{RATE}])))"


def latency_sli(window: str = RATE) -> str:
    """Share of /predict requests faster than the latency SLO threshold."""
    fast = f'sum(rate({DURATION}_bucket{{route="{SLO_ROUTE}", le="{LATENCY_LE}"}}[{window}]))'
    return f'{fast} / sum(rate({DURATION}_count{{route="{SLO_ROUTE}"}}[{window}]))'


# A flag's counter series only appears at its first change, when increase() cannot see it yet: the
# "unless ... offset" clause catches that first change.
CONFIG_CHANGE_EXPR = ("increase(aiops_config_changes_total[1m]) > 0 or "
                      "(aiops_config_changes_total unless aiops_config_changes_total offset 1m)")
# increase() rather than changes(): a service restart resets the counter, which is not a deploy.
DEPLOY_EXPR = "increase(aiops_model_deployments_total[1m]) > 0"
FIRING_ALERTS_EXPR = 'ALERTS{alertstate="firing", alertname!="Watchdog"}'
DRILL_EXPR = "aiops_pager_drill_info == 1"


def change_annotations() -> list[dict]:
    """Config changes, deploys and firing alerts: the first things to correlate with any graph."""
    return [
        annotation("Config changes", CONFIG_CHANGE_EXPR, "config change: {{flag}}", "flag", "orange"),
        annotation("Model deploys", DEPLOY_EXPR, "model {{action}}", "action", "purple"),
        annotation("Firing alerts", FIRING_ALERTS_EXPR, "{{alertname}} firing", "alertname,severity", "red"),
    ]
