"""Hidden reference cases for module 03: synthetic latency histograms and the verdict each must produce.

The spec (module README): ``PredictLatencyP99High`` fires when the p99 latency of /predict over 5 minutes
is above 500 ms for 5 minutes. Each case feeds a traffic mix into ``promtool test rules`` and says when the
alert must be firing and when it must be silent. The buckets are the service's real ones
(``model_service.metrics.LATENCY_BUCKETS``), so the cases track the exported histogram.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from model_service.metrics import LATENCY_BUCKETS

MINUTES = 30
_LABELS = 'job="model-service",instance="127.0.0.1:8000"'


@dataclass(frozen=True)
class Case:
    name: str
    # route -> {latency seconds: requests per minute}
    traffic: dict[str, dict[float, int]]
    silent_at: tuple[int, ...] = ()  # minutes at which the alert must not be firing
    firing_at: tuple[int, ...] = ()  # minutes at which it must be firing
    hint: str = ""


CASES: tuple[Case, ...] = (
    Case("sustained slow /predict fires once for: 5m has elapsed",
         {"/predict": {0.8: 100}}, silent_at=(5,), firing_at=(6, 20),
         hint="every request takes 0.8 s from minute 0: the condition holds from the first evaluation (1m), so "
              "with for: 5m the alert must be pending at 5m and firing at 6m"),
    Case("fast traffic stays silent", {"/predict": {0.02: 100}}, silent_at=(6, 20),
         hint="all requests take 20 ms: p99 is far below 500 ms"),
    Case("a 3% tail of 3 s requests fires (p99, not the average)",
         {"/predict": {0.02: 97, 3.0: 3}}, firing_at=(10, 20),
         hint="the average is ~0.11 s but p99 is above 2.5 s: use histogram_quantile(0.99, ...) on the "
              "_bucket series, summed by le, not _sum/_count"),
    Case("a 0.5% tail stays silent", {"/predict": {0.02: 199, 3.0: 1}}, silent_at=(10, 20),
         hint="only 0.5% of requests are slow, so p99 is fast: a max-based or p99.9 alert pages here"),
    Case("slow traffic on other routes does not page for /predict",
         {"/predict": {0.02: 100}, "/metrics": {2.0: 100}}, silent_at=(10, 20),
         hint='filter on route="/predict": the alert is about predictions, not about scrapes'),
)


def _bucket_label(le: float) -> str:
    return f"{le:g}"


def input_series(case: Case) -> list[dict[str, str]]:
    """Cumulative histogram counters growing at the case's per-minute rates, for every route."""
    series = []
    for route, mix in case.traffic.items():
        labels = f'{_LABELS},route="{route}"'
        total = sum(mix.values())
        for le in (*LATENCY_BUCKETS, float("inf")):
            per_min = sum(n for latency, n in mix.items() if latency <= le)
            name = "+Inf" if le == float("inf") else _bucket_label(le)
            series.append({"series": f'aiops_http_request_duration_seconds_bucket{{{labels},le="{name}"}}',
                           "values": f"0+{per_min}x{MINUTES}"})
        series.append({"series": f"aiops_http_request_duration_seconds_count{{{labels}}}",
                       "values": f"0+{total}x{MINUTES}"})
        latency_sum = sum(latency * n for latency, n in mix.items())
        series.append({"series": f"aiops_http_request_duration_seconds_sum{{{labels}}}",
                       "values": f"0+{latency_sum:g}x{MINUTES}"})
        series.append({"series": f'aiops_http_requests_total{{{labels},method="POST",status="200"}}',
                       "values": f"0+{total}x{MINUTES}"})
    return series


def test_file(case: Case, alert: str, rule_file: str) -> dict[str, Any]:
    checks = [{"eval_time": f"{m}m", "alertname": alert, "exp_alerts": []} for m in case.silent_at]
    checks += [{"eval_time": f"{m}m", "alertname": alert, "exp_alerts": [{"exp_labels": {}}]}
               for m in case.firing_at]
    checks.sort(key=lambda c: int(c["eval_time"][:-1]))
    return {"rule_files": [rule_file], "evaluation_interval": "1m",
            "tests": [{"name": case.name, "interval": "1m", "input_series": input_series(case),
                       "alert_rule_test": checks}]}


_FAILED_AT = re.compile(r"time:\s*(\d+)m")


def explain(case: Case, output: str) -> str:
    """promtool's failure as one sentence: at which minute the rule fired or stayed silent wrongly."""
    minutes = sorted({int(m) for m in _FAILED_AT.findall(output)})
    if not minutes:
        tail = output.strip().splitlines()[-1] if output.strip() else "no output"
        return f"promtool could not run the case: {tail}"
    wrong = []
    for m in minutes:
        if m in case.firing_at:
            wrong.append(f"silent (or still pending) at {m}m where it must fire")
        elif m in case.silent_at:
            wrong.append(f"firing at {m}m where it must stay silent")
    return "; ".join(wrong) or f"wrong at minute(s) {', '.join(map(str, minutes))}"
