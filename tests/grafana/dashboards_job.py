"""Every dashboard panel's query answered by a real Prometheus scraping the real service and pager after real
traffic, then every dashboard drawn (``aiops-lab dashboard render``'s code) and opened in Chromium.

No Grafana server is installable here, so the job does what Grafana would: substitute the template variables
and run each panel's PromQL against Prometheus. A job of the drill pool: it starts a service, a pager and a
Prometheus of its own (the pool lab's traffic would make its exact counts inexact) and mostly waits for
scrapes -- 32 s at the end of the foreground, where nothing else overlapped it. ``test_dashboards.py``
reports it.
"""

from __future__ import annotations

import re
import shutil
import time
from html import unescape
from pathlib import Path

import httpx

from aiops_core import http as lab_http
from aiops_core.polling import wait_until
from labs.dashboards.render import names as dashboard_names
from labs.dashboards.render import render as render_dashboard
from model_service import generator
from monitoring.binaries import APT_INSTALL
from tests.grafana.panels import (
    ALLOWED_EMPTY,
    ALLOWED_EMPTY_ANNOTATIONS,
    ALLOWED_EMPTY_DRAWN,
    DASHBOARDS,
    all_panels,
    boards,
    substitute,
)
from tests.labs.drills.lab import Lab
from tests.labs.drills.pool import Job, Skipped
from tests.labs.pager.test_pager_api import PagerUnderTest, start_pager
from tests.labs.pager.test_pager_logic import alert, payload
from tests.support import browser as browser_support
from tests.support.http_server import directory_handler, serving
from tests.support.processes import ServiceUnderTest, service_with_registry
from tests.support.prometheus import TestPrometheus, running_prometheus
from tests.support.speed import scaled


def send_traffic(service: ServiceUnderTest, pager: PagerUnderTest, prom: TestPrometheus) -> None:
    """A short, bounded burst touching every signal the panels show, in phases that each wait for a scrape.

    rate() cannot see the first increment of a series that appears with it (a new status code, a new
    model version), so each kind of traffic is sent both before and after Prometheus has seen it.
    """
    frame = generator.generate(120, seed=11)
    records, truth = generator.records(frame), frame[generator.TARGET].tolist()
    admin = service.admin_headers
    rows = 0  # rows predicted successfully

    def scraped(expr: str, what: str) -> None:
        wait_until(lambda: prom.vector(expr), timeout=scaled(20), what=f"prometheus to scrape {what}")

    def predict_and_feedback(c: httpx.Client, first: int, count: int) -> int:
        for i in range(first, first + count):
            r = c.post("/predict", json=records[i])
            assert r.status_code == 200, r.text
            assert c.post("/feedback", json={"prediction_id": r.json()["prediction_id"],
                                             "actual": truth[i]}).status_code == 200
        assert c.post("/predict", json={"instances": records[first:first + 20]}).status_code == 200
        for bad in ({**records[0], "distance_km": -1}, {**records[0], "items_count": "two"}, {"instances": []},
                    {k: v for k, v in records[0].items() if k != "courier_experience_months"}):
            assert c.post("/predict", json=bad).status_code == 422
        assert c.post("/feedback", json={"prediction_id": "no-such-id", "actual": 10}).status_code == 404
        return count + 20

    with service.client() as c:
        for phase in range(2):
            rows += predict_and_feedback(c, phase * 40, 40)
            scraped(f"sum(aiops_predictions_total) == {rows}", f"phase {phase} of the normal traffic")
        # A config change that causes 5xx (sent across two scrapes), then its revert.
        assert c.put("/admin/config/error_ratio", json={"value": 0.5, "reason": "dashboard test"},
                     headers=admin).status_code == 200
        errors = 0
        for phase in range(2):
            statuses = [c.post("/predict", json=rec).status_code for rec in records[:30]]
            errors += statuses.count(500)
            rows += statuses.count(200)
            assert errors > 0
            scraped(f'sum(aiops_http_requests_total{{status="500"}}) == {errors}', f"phase {phase} of the errors")
        assert c.put("/admin/config/error_ratio", json={"value": 0.0, "reason": "revert"},
                     headers=admin).status_code == 200
        # A deploy and its rollback.
        assert c.post("/admin/model/deploy", json={"version": "v2"}, params={"force": "true"},
                      headers=admin).status_code == 200
        for _ in range(2):
            assert c.post("/predict", json={"instances": records[:10]}).status_code == 200
            rows += 10
            scraped(f"sum(aiops_predictions_total) == {rows}", "predictions by v2")
        assert c.post("/admin/model/rollback", headers=admin).status_code == 200
        rows += predict_and_feedback(c, 80, 20)
    assert pager.post("/alerts", payload(alert("DashboardTestAlert"))).status_code == 200
    assert pager.post("/heartbeat").status_code == 200
    assert pager.post("/drill", {"drill": "dashboard-test"}).status_code == 200
    scraped(f"sum(aiops_predictions_total) == {rows}", "the whole burst")
    scraped('aiops_pager_drill_info{drill="dashboard-test"}', "the pager")


def panels_answer_on_a_real_prometheus(lab: Lab) -> str:
    """Its own service (the session's trained models: v1 active, v2 a candidate), pager and Prometheus, in a
    directory beside the pool lab's state; the lab itself is not used."""
    for binary, package in (("prometheus", APT_INSTALL), ("chromium", "apt-get install chromium chromium-driver")):
        if shutil.which(binary) is None:
            raise Skipped(f"{binary} is not installed; install it with: {package}")
    assert lab.seed_registry is not None, "the pool gives every lab the session's trained models"
    work = lab.state.parent / "dashboards"
    shutil.rmtree(work, ignore_errors=True)
    with service_with_registry(work / "service", lab.seed_registry) as service:
        pager = start_pager(work / "pager-state")
        try:
            with running_prometheus(work / "prometheus", {"model-service": f"127.0.0.1:{service.port}",
                                                          "pager": f"127.0.0.1:{pager.port}"}) as prometheus:
                _every_panel_answers(service, pager, prometheus, work)
        finally:
            pager.process.stop()
    return f"{sum(1 for _ in all_panels())} panels answered and drawn"


def _every_panel_answers(service: ServiceUnderTest, pager: PagerUnderTest, prometheus: TestPrometheus,
                         tmp_path: Path) -> None:
    started = time.time()
    send_traffic(service, pager, prometheus)

    targets = [(b["uid"], p["title"], t["refId"], t["expr"]) for b, p in all_panels() for t in p["targets"]]
    empty: list[str] = []

    def all_answered() -> bool:
        empty.clear()
        for uid, title, ref, expr in targets:
            has_vars = "$route" in expr or "$model_version" in expr
            for route, version in ((".*", ".*"), ("/predict", "v1"))[:2 if has_vars else 1]:
                result = prometheus.vector(substitute(expr, route, version))  # raises on a PromQL error
                if not result and (uid, title) not in ALLOWED_EMPTY:
                    empty.append(f"{uid} / {title} / {ref} (route={route}, model_version={version}): {expr}")
        return not empty

    try:
        wait_until(all_answered, timeout=30, interval=1.0, what="every panel to return data")
    except AssertionError:
        raise AssertionError("panels without data:\n" + "\n".join(empty)) from None

    def value(expr: str, **match: str) -> float:
        series = [v for labels, v in prometheus.vector(substitute(expr, ".*", ".*"))
                  if all(labels.get(k) == want for k, want in match.items())]
        assert series, f"no series {match} in {expr}"
        return series[0]

    by_title = {(b["uid"], p["title"]): p["targets"] for b, p in all_panels()}
    error_by_route = by_title[("aiops-service", "5xx error ratio by route")][0]["expr"]
    assert value(error_by_route, route="/predict") > 0, "the error_ratio flag produced 5xx"
    assert value(error_by_route, route="/feedback") == 0, "no 5xx on /feedback reads as 0, not 'No data'"
    fields = {labels["field"] for labels, v in prometheus.vector(substitute(
        by_title[("aiops-service", "Validation errors by field")][0]["expr"], ".*", ".*")) if v > 0}
    assert {"distance_km", "items_count"} <= fields
    by_version = by_title[("aiops-model", "Predictions / s by model version")][0]["expr"]
    assert value(by_version, model_version="v1") > 0 and value(by_version, model_version="v2") > 0
    assert value(by_title[("aiops-model", "MAE from feedback (5m window)")][0]["expr"], model_version="v1") > 0
    assert value(by_title[("aiops-incident", "Drill running")][0]["expr"], drill="dashboard-test") == 1

    for board in boards():
        for ann in board["annotations"]["list"]:
            if "expr" in ann:
                # Steps fall at start + k s; end one step past now, or a sample scraped in the last second
                # (the drill marker, set just before) falls after the last step and the range reads empty.
                result = prometheus.matrix(ann["expr"], started - 5, time.time() + 1.0, 1.0)
                assert result or ann["name"] in ALLOWED_EMPTY_ANNOTATIONS, f"{board['uid']}: {ann['name']} empty"
        for var in board["templating"]["list"]:
            if var["type"] == "query":
                metric, label = re.fullmatch(r"label_values\((\w+), (\w+)\)", var["definition"]).groups()  # type: ignore[union-attr]
                values = lab_http.get(f"{prometheus.url}/api/v1/label/{label}/values",
                                      params={"match[]": metric}, timeout=10).json()["data"]
                assert {"/predict", "v1"} & set(values), f"{var['name']}: {values}"

    # The same panels drawn without Grafana (aiops-lab dashboard render), from the same Prometheus.
    check_rendered_dashboards(prometheus, tmp_path / "rendered", since_s=time.time() - started + 30)


def check_rendered_dashboards(prometheus: TestPrometheus, out: Path, since_s: float) -> None:
    """Every dashboard renders; each panel draws a non-empty series or is an expected-empty one, whose page
    says why; the page loads in Chromium asking nothing of any host but loopback, with no console error."""
    rendered = [render_dashboard(name, prometheus, since_s, out) for name in dashboard_names()]
    assert [r.name for r in rendered] == [p.stem for p in DASHBOARDS]
    for result in rendered:
        assert len(result.panels) == len(next(b for b in boards() if b["uid"] == result.uid)["panels"])
        unexpected = {t: r for t, r in result.empty.items() if (result.uid, t) not in ALLOWED_EMPTY_DRAWN}
        assert not unexpected, f"{result.uid}: panels drew nothing: {unexpected}"
        html = unescape(result.html.read_text())
        for title, reason in result.empty.items():
            assert f"{title}: {reason}" in html, f"{result.uid}/{title}: the page does not say why it is empty"
    with browser_support.chromium() as browser, serving(directory_handler(out)) as base:
        for result in rendered:
            page = browser.load(f"{base}/{result.html.name}", wait_for="figure img")
            assert page.offsite_requests() == [], f"{result.name}: requests left 127.0.0.1"
            assert page.console_errors == [], f"{result.name}: {page.console_errors}"
            images = page.select("figure img")
            assert len(images) == len(result.panels)
            assert all(int(img.get_property("naturalWidth")) > 100 for img in images), "an image did not decode"
            drawn = [int(f.get_attribute("data-series")) for f in page.select("figure")]
            assert drawn == [p.series for p in result.panels]


# Mostly waiting for scrapes, on processes of its own: it runs beside the pool's heavy jobs (pool.py).
JOBS = [Job("every dashboard panel answers on a real Prometheus and draws", panels_answer_on_a_real_prometheus,
            cost_s=45, beside_heavy=True, uses_lab=False)]
