"""Service dashboard: RED by route, the availability SLO and its burn rates, input, log and dependency health.

The home dashboard: the first screen of "is the service OK?" -- rate, errors, duration, then budget.
"""

from __future__ import annotations

from typing import Any

from dashgen import promql as q
from dashgen.panels import RATE, Grid, dashboard, datasource_variable, query_variable, stat, targets, thresholds
from dashgen.panels import timeseries as ts

UID = "aiops-service"
ROUTE = 'route=~"$route"'
REQ = q.REQUESTS


def build() -> dict[str, Any]:
    g = Grid()
    g.add(stat("Request rate", "Requests per second on the selected routes (all status codes).", "reqps",
               targets((f"sum(rate({REQ}{{{ROUTE}}}[{RATE}]))", "requests/s"))), 4, 4)
    g.add(stat("5xx error ratio", "Share of requests on the selected routes answered with a 5xx. The SLO "
               f"allows {q.ERROR_BUDGET:.1%} on {q.SLO_ROUTE}.", "percentunit",
               targets((q.error_ratio(ROUTE), "5xx ratio")),
               thresholds(("green", None), ("orange", q.ERROR_BUDGET / 2), ("red", q.ERROR_BUDGET))), 4, 4)
    g.add(stat("p99 latency", "99th percentile request duration on the selected routes, from the latency "
               "histogram (interpolated within buckets).", "s",
               targets((f"histogram_quantile(0.99, sum by (le) (rate({q.DURATION}_bucket{{{ROUTE}}}[{RATE}])))",
                        "p99")),
               thresholds(("green", None), ("orange", 0.1), ("red", float(q.LATENCY_LE)))), 4, 4)
    g.add(stat("Requests in flight", "Requests being served right now. On this single worker it can read ~1 "
               "under CPU saturation (the scrape waits its turn): see worker busy time.",
               "short", targets(("aiops_http_requests_in_flight", "in flight")),
               thresholds(("green", None), ("orange", 20), ("red", 50))), 4, 4)
    g.add(stat(f"Error budget remaining ({q.SLO_WINDOW})",
               f"Unspent share of the {q.SLO_WINDOW} error budget of the {q.SLO_TARGET:.1%} availability SLO on "
               f"{q.SLO_ROUTE} (5xx = bad). Below 0 the SLO is missed. Covers the data Prometheus retains.",
               "percentunit", targets((q.budget_remaining(), "budget remaining")),
               thresholds(("red", None), ("orange", 0), ("green", 0.25))), 4, 4)
    g.add(stat(f"Latency SLI (< {float(q.LATENCY_LE) * 1000:g} ms)",
               f"Share of {q.SLO_ROUTE} requests faster than {q.LATENCY_LE} s (a histogram bucket sits exactly "
               "at the threshold, so this is exact).", "percentunit",
               targets((q.latency_sli(), "fast share")),
               thresholds(("red", None), ("orange", 0.95), ("green", 0.99))), 4, 4)

    g.add(ts("Request rate by route", "Requests per second by route template.", "reqps",
             targets((f"sum by (route) (rate({REQ}{{{ROUTE}}}[{RATE}]))", "{{route}}"))), 12, 8)
    g.add(ts("Request rate by status code", "Requests per second on the selected routes, by HTTP status. "
             "4xx are client mistakes (see validation errors), 5xx are ours.", "reqps",
             targets((f"sum by (status) (rate({REQ}{{{ROUTE}}}[{RATE}]))", "{{status}}"))), 12, 8)
    g.add(ts("5xx error ratio by route", "Share of each route's requests answered with a 5xx (0 when none "
             "failed).", "percentunit", targets((q.error_ratio(ROUTE, by="route"), "{{route}}")),
             thresholds(("green", None), ("red", q.ERROR_BUDGET)), threshold_lines=True), 12, 8)
    g.add(ts("Latency p50 / p95 / p99 by route", "Request duration quantiles per route from "
             f"{q.DURATION}. A route without traffic has no quantile (gap).", "s",
             targets(*[(q.latency_quantile(p, ROUTE), f"p{round(p * 100)} {{{{route}}}}") for p in (0.5, 0.95, 0.99)]),
             thresholds(("green", None), ("red", float(q.LATENCY_LE))), threshold_lines=True), 12, 8)

    g.add(ts("SLO burn rate (5m, 1h and 6h windows)",
             f"How fast {q.SLO_ROUTE} spends its error budget: 1x spends it exactly over {q.SLO_WINDOW}. "
             f"Page when the 1h burn exceeds {q.BURN_PAGE_1H:g}x or the 6h burn {q.BURN_PAGE_6H:g}x, each "
             "confirmed by a short window (SRE Workbook multi-window alerts). The 5m line reacts first.", "none",
             targets((q.burn_rate("5m"), "burn rate 5m"), (q.burn_rate("1h"), "burn rate 1h"),
                     (q.burn_rate("6h"), "burn rate 6h")),
             thresholds(("green", None), ("orange", q.BURN_PAGE_6H), ("red", q.BURN_PAGE_1H)),
             threshold_lines=True), 12, 8)
    g.add(stat(f"Availability ({q.SLO_WINDOW})", f"Share of {q.SLO_ROUTE} requests without a 5xx over "
               f"{q.SLO_WINDOW}; the SLO is {q.SLO_TARGET:.1%}.", "percentunit",
               targets((f"1 - ({q.slo_error_ratio(q.SLO_WINDOW)})", "availability")),
               thresholds(("red", None), ("green", q.SLO_TARGET)), decimals=3), 6, 8)
    g.add(ts("In-flight requests over time", "Concurrent requests over time: a rising floor means requests queue up.",
             "short", targets(("aiops_http_requests_in_flight", "in flight"))), 6, 8)

    g.add(ts("Validation errors by field", "Rejected inputs per second by the field that failed validation "
             "(422s). A jump in one feature usually means a client or upstream feed changed.", "cps",
             targets(("sum by (field) (rate(aiops_validation_errors_total[" + RATE + "]))", "{{field}}"))),
          12, 8)
    g.add(ts("Prediction-log queue depth", "Rows waiting for the batched SQLite writer. Growth means the "
             "log cannot keep up (feedback and drift data will lag; at the limit predictions fail).", "short",
             targets(("aiops_prediction_log_queue_depth", "queued rows"))), 6, 8)
    g.add(ts("Prediction-log writes", "Rows committed per second by table, and failed commits.", "cps",
             targets(("sum by (table) (rate(aiops_prediction_log_rows_written_total[" + RATE + "]))",
                      "{{table}} rows/s"),
                     ("sum(rate(aiops_prediction_log_write_errors_total[" + RATE + "]))", "write errors/s"))),
          6, 8)

    dep = "aiops_dependency"
    g.add(ts("Dependency calls by outcome", "Calls the service makes to upstream dependencies (the traffic feed, "
             "for requests that omit traffic_index), per second by outcome: ok, timeout (the "
             "traffic_feed_timeout_ms budget ran out) or error (refused, HTTP error, malformed answer).", "reqps",
             targets((f"sum by (dependency, outcome) (rate({dep}_requests_total[{RATE}]))",
                      "{{dependency}} {{outcome}}"))), 12, 8)
    g.add(ts("Dependency latency p50 / p99", "Time the service waits for each dependency call, failed calls "
             "included (a timeout shows at the timeout). It adds to /predict latency: anything near "
             f"{q.LATENCY_LE} s burns the latency SLO.", "s",
             targets(*[(f"histogram_quantile({p}, sum by (le, dependency) (rate({dep}_request_duration_seconds_bucket"
                        f"[{RATE}])))", f"p{round(p * 100)} {{{{dependency}}}}") for p in (0.5, 0.99)]),
             thresholds(("green", None), ("red", float(q.LATENCY_LE))), threshold_lines=True), 6, 8)
    g.add(ts("Dependency fallbacks", "Failed dependency calls per second by what the service did instead: "
             "fail (the client got a 503) or impute (served with the feature missing: a degraded ETA).", "cps",
             targets((f"sum by (dependency, fallback) (rate({dep}_fallbacks_total[{RATE}]))",
                      "{{dependency}} {{fallback}}"))), 6, 8)

    g.add(ts("Worker busy time and CPU", "Request-seconds served per second (1 = the worker never idles; by "
             "Little's law the average number of requests in progress) and CPU cores the service uses. "
             "ModelServiceSaturated pages when both are high: the queue then forms in front of the app, where "
             "the latency SLI cannot see it.", "short",
             targets((f"sum(rate({q.DURATION}_sum{{job=\"model-service\"}}[{RATE}]))", "busy (request-s/s)"),
                     (f"rate(process_cpu_seconds_total{{job=\"model-service\"}}[{RATE}])", "cpu cores")),
             thresholds(("green", None), ("red", 0.9)), threshold_lines=True), 12, 8)
    lag = "aiops_event_loop_lag_seconds"
    g.add(ts("Event-loop lag (queueing before handlers)", "How late the service's event loop runs a timer "
             "(sampled every 100 ms): the time a ready request waits before its handler starts, which the "
             "latency histogram above cannot see. A CPU hog on the machine, a blocking call or CPU burnt on the "
             "loop shows here, not as handler latency; client-side latency is then higher than the SLI says.",
             "s", targets((f"histogram_quantile(0.99, sum by (le) (rate({lag}_bucket{{job=\"model-service\"}}"
                           f"[{RATE}])))", "p99 lag"),
                          (f"sum(rate({lag}_sum{{job=\"model-service\"}}[{RATE}])) / "
                           f"sum(rate({lag}_count{{job=\"model-service\"}}[{RATE}]))", "mean lag")),
             thresholds(("green", None), ("orange", 0.05), ("red", float(q.LATENCY_LE))), threshold_lines=True),
          12, 8)
    g.add(ts("Dependency circuit breaker", "Breakers that are not closed (1 while open or half-open; flags "
             "traffic_feed_breaker_*) and the calls they skipped per second: while open, requests that need the "
             "dependency get the traffic_feed_fallback at once instead of waiting for traffic_feed_timeout_ms.",
             "short", targets((f"sum by (dependency, state) ({dep}_circuit_breaker_state{{state!=\"closed\"}})",
                               "{{dependency}} {{state}}"),
                              (f"sum by (dependency) (rate({dep}_short_circuits_total[{RATE}]))",
                               "{{dependency}} calls skipped/s"))), 12, 8)

    variables = [datasource_variable(),
                 query_variable("route", "Route", REQ, "route", "Route templates to show (SLO panels always use "
                                f"{q.SLO_ROUTE}).")]
    return dashboard(UID, "aiops-lab / Service: RED + SLO",
                     "Is the model service healthy? Rate, errors and duration by route, the availability SLO and "
                     "its burn rate, input validation, the prediction log and upstream dependencies.",
                     ["service", "slo"], g, variables, q.change_annotations())
