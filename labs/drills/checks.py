"""Success checks: is the incident mitigated, judged by what users see -- not by how the learner got there.

* ``promql``: an SLI in the lab's Prometheus must satisfy a condition at every step of the last ``hold``
  seconds (a single good scrape after a fix is not recovery);
* ``golden_set``: the *live* ``/predict`` is called with held-out labelled rows and its MAE is computed
  against the truth -- editing files by hand cannot fake it;
* ``service``: the component answers its readiness endpoint.
"""

from __future__ import annotations

import math
import operator
import time
from dataclasses import dataclass

import httpx

from aiops_core import http as lab_http
from aiops_core.http import component_problem
from aiops_core.prometheus import PromError, Prometheus
from aiops_core.runstate import component_url
from labs.drills.schema import Check, GoldenCheck, PromCheck, ServiceCheck
from labs.stack import labview
from model_service.features import TARGET

OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "==": operator.eq,
       "!=": operator.ne}
GOLDEN_BATCH = 500
# Held-out sets of drifted worlds: seeded apart from the golden set and from any traffic seed.
HELD_OUT_SEED = 515151


@dataclass
class CheckResult:
    name: str
    passed: bool
    detail: str
    value: float | None = None


def _fmt(value: float) -> str:
    return f"{value:.4g}" if math.isfinite(value) else str(value)


def judge(name: str, points: list[tuple[float, float]], op: str, threshold: float, hold: float,
          step: float) -> CheckResult:
    """Did the condition hold at every evaluation of the last ``hold`` seconds, with data throughout?"""
    cond = f"{op} {_fmt(threshold)}"
    expected = int(hold // step) + 1
    if not points:
        return CheckResult(name, False, f"no data in the last {hold:.0f}s (need {cond})")
    latest = points[-1][1]
    bad = [v for _, v in points if not OPS[op](v, threshold)]
    if bad:
        return CheckResult(name, False, f"now {_fmt(latest)}; {len(bad)} of the last {len(points)} "
                           f"evaluations failed {cond} (must hold for {hold:.0f}s)", latest)
    if len(points) < expected - 1:
        return CheckResult(name, False, f"now {_fmt(latest)}, but data covers only {len(points)} of "
                           f"{expected} evaluations of the last {hold:.0f}s (need {cond} throughout)", latest)
    return CheckResult(name, True, f"{_fmt(latest)}, held {cond} for {hold:.0f}s", latest)


def promql(check: PromCheck, prom: Prometheus, now: float | None = None) -> CheckResult:
    now = now or time.time()
    try:
        if check.hold <= 0:
            value = prom.value(check.query, at=now)
            if value is None:
                return CheckResult(check.name, False, f"no data (need {check.op} {_fmt(check.threshold)})")
            return CheckResult(check.name, OPS[check.op](value, check.threshold),
                               f"{_fmt(value)} (need {check.op} {_fmt(check.threshold)})", value)
        step = max(1.0, check.hold / 15.0)
        points = prom.series(check.query, now - check.hold, now, step)
    except PromError as exc:
        return CheckResult(check.name, False, str(exc))
    return judge(check.name, points, check.op, check.threshold, check.hold, step)


def held_out(scenario: str, rows: int) -> tuple[list[dict[str, object]], list[float]]:
    """Labelled rows the service never saw: the golden set, or a held-out sample of a drifted world."""
    from model_service import generator, training  # pandas + scikit-learn: only when a golden check runs

    frame = training.golden_set() if scenario == "normal" else generator.generate(rows, HELD_OUT_SEED, scenario)
    frame = frame.head(rows)
    return generator.records(frame), [float(v) for v in frame[TARGET].to_numpy()]


def golden(check: GoldenCheck, base_url: str | None = None) -> CheckResult:
    base_url = (base_url or component_url("model-service")).rstrip("/")
    records, labels = held_out(check.scenario, check.rows)
    preds: list[float] = []
    try:
        with lab_http.new_client(base_url=base_url, timeout=15.0) as client:
            for i in range(0, len(records), GOLDEN_BATCH):
                resp = client.post("/predict", json={"instances": records[i:i + GOLDEN_BATCH]})
                if resp.status_code != 200:
                    return CheckResult(check.name, False, f"/predict answered HTTP {resp.status_code} to the "
                                       "held-out rows: " + resp.text[:160])
                preds.extend(p["predicted_minutes"] for p in resp.json()["predictions"])
    except httpx.HTTPError as exc:
        return CheckResult(check.name, False, f"/predict at {base_url} is not reachable ({type(exc).__name__})")
    mae = sum(abs(p - y) for p, y in zip(preds, labels, strict=True)) / len(labels)
    which = "golden set" if check.scenario == "normal" else f"held-out {check.scenario} rows"
    return CheckResult(check.name, mae <= check.max_mae_minutes,
                       f"MAE {mae:.2f} min on {len(labels)} {which} (need <= {check.max_mae_minutes:g})", mae)


def service(check: ServiceCheck) -> CheckResult:
    state = labview.load()
    rec = state.components.get(check.component) if state is not None else None
    url = rec.health_url if rec is not None else component_url(check.component) + "/-/ready"
    problem = component_problem(check.component, url, timeout=3.0)
    return CheckResult(check.name, problem is None, f"{url}: {problem or 'HTTP 200'}")


def evaluate(checks: list[Check], prom: Prometheus | None = None) -> list[CheckResult]:
    """Evaluate the checks now, in file order.

    Golden-set checks run only once every PromQL check passes: their held-out rows go through the live
    /predict and would otherwise dilute the very per-row ratios (out-of-range share, zero share) the PromQL
    checks are judging, while the incident is still going on.
    """
    prom = prom or Prometheus()
    now = time.time()
    results: dict[int, CheckResult] = {}
    for i, check in enumerate(checks):
        if isinstance(check, PromCheck):
            results[i] = promql(check, prom, now)
        elif isinstance(check, ServiceCheck):
            results[i] = service(check)
    sli_ok = all(r.passed for r in results.values())
    for i, check in enumerate(checks):
        if isinstance(check, GoldenCheck):
            results[i] = golden(check) if sli_ok else CheckResult(
                check.name, False, "not evaluated until the other checks pass (its rows would skew them)")
    return [results[i] for i in range(len(checks))]
