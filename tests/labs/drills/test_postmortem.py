"""The postmortem draft: links that open the real runbooks wherever the state dir lives, and the quality impact
of a model incident (MAE against the time before the fault, predictions per model version) read from a real
Prometheus scraping the real service."""

from __future__ import annotations

import math
import re
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from aiops_core.paths import REPO_ROOT
from aiops_core.polling import wait_until
from aiops_core.prometheus import Prometheus
from labs.drills import catalogue, postmortem, scoring, sli_chart
from labs.drills import journal as jr
from model_service import generator
from tests.support.browser import chromium
from tests.support.http_server import directory_handler, serving
from tests.support.ports import free_port
from tests.support.processes import ServiceUnderTest
from tests.support.prometheus import running_prometheus
from tests.support.speed import scaled

LINK = re.compile(r"\]\(([^)\s]+)\)")


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The drill engine's state dir (the service under test keeps its own)."""
    monkeypatch.setenv("AIOPS_STATE_DIR", str(tmp_path / "drill-state"))
    monkeypatch.delenv("AIOPS_REPORTS_DIR", raising=False)
    return tmp_path / "drill-state"


@pytest.fixture(params=["outside-the-repo", "inside-the-repo"])
def anywhere(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A state dir anywhere (``AIOPS_STATE_DIR``), or inside the repository like the default ``.lab/``."""
    if request.param == "outside-the-repo":
        state = tmp_path / "state"
    else:
        state = REPO_ROOT / ".lab" / f"test-postmortem-{uuid.uuid4().hex[:8]}"
    lab_dir_existed = (REPO_ROOT / ".lab").exists()
    monkeypatch.setenv("AIOPS_STATE_DIR", str(state))
    monkeypatch.delenv("AIOPS_REPORTS_DIR", raising=False)
    try:
        yield state
    finally:
        if request.param == "inside-the-repo":
            shutil.rmtree(state, ignore_errors=True)
            if not lab_dir_existed:
                shutil.rmtree(REPO_ROOT / ".lab", ignore_errors=True)


def _dead_prometheus() -> Prometheus:
    return Prometheus(base_url=f"http://127.0.0.1:{free_port()}", timeout=1.0)


def _journal(drill_id: str, injected_at: float, passed_at: float) -> jr.Journal:
    j = jr.Journal(run_id=f"{drill_id}-test", drill_id=drill_id, started_at=injected_at - 10, injected_at=injected_at)
    j.passed_at = passed_at
    return j


def _write(j: jr.Journal, prom: Prometheus) -> str:
    drill = catalogue.get(j.drill_id)
    return postmortem.write(j, drill, scoring.score(j, drill, []), [], prom).read_text()


def test_every_link_of_a_postmortem_opens_the_runbook_it_names(anywhere: Path) -> None:
    drill = catalogue.get("monitoring-blind-spot")
    j = _journal(drill.id, 1000.0, 1100.0)
    path = postmortem.write(j, drill, scoring.score(j, drill, []), [], _dead_prometheus())
    assert path.is_relative_to(anywhere)
    links = LINK.findall(path.read_text())
    assert len(links) == len(drill.runbooks)
    for link, runbook in zip(links, drill.runbooks, strict=True):
        target = path.parent / link
        assert target.is_file(), f"{link} does not resolve from {path.parent}"
        assert target.resolve() == (REPO_ROOT / runbook).resolve()


def test_quality_impact_without_prometheus_says_no_data(state: Path) -> None:
    text = _write(_journal("bad-model-deploy", 1000.0, 1100.0), _dead_prometheus())
    quality = text[text.index("| model version |"):text.index("## Detection")]
    assert "| all versions | no data | no data | no data | no data | no data |" in quality
    assert not re.search(r"\d", quality.split("\n", 2)[2]), "no number is made up"


def test_an_availability_incident_has_no_quality_table(state: Path) -> None:
    assert "| model version |" not in _write(_journal("service-crash", 1000.0, 1100.0), _dead_prometheus())


# Offsets (minutes) between each prediction and the ground truth sent for it: the MAE each version must show.
# Means chosen away from a rounding boundary (the response rounds predictions to 3 decimals).
BASELINE_V1 = [1.0, 2.0] * 10  # 20 labels, MAE 1.50
WINDOW_V1 = [1.0, 2.0] * 2  # 4 labels, MAE 1.50
WINDOW_V2 = [3.0, 5.0] * 8  # 16 labels, MAE 4.00; all versions in the window: 70 / 20 = 3.50


class Traffic:
    """Predictions in one batch, then ground truth for the first of them at known offsets."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self.rows = generator.records(generator.generate(200, seed=5, scenario_name="normal"))
        self.sent = 0

    def serve(self, rows: int, offsets: list[float], version: str) -> None:
        batch = self.rows[self.sent:self.sent + rows]
        self.sent += rows
        resp = self.client.post("/predict", json={"instances": batch})
        assert resp.status_code == 200 and resp.json()["model_version"] == version, resp.text
        for pred, offset in zip(resp.json()["predictions"], offsets, strict=False):
            fb = self.client.post("/feedback", json={"prediction_id": pred["prediction_id"],
                                                     "actual": pred["predicted_minutes"] + offset})
            assert fb.status_code == 200, fb.text


def _scraped(prom: Prometheus, expected: dict[tuple[str, str], float]) -> bool:
    """Has Prometheus scraped these counter values ((metric, version) -> value)?"""
    for (metric, version), value in expected.items():
        if prom.value(f'{metric}{{job="model-service",model_version="{version}"}}') != value:
            return False
    return True


@pytest.mark.integration
def test_quality_impact_counts_what_each_version_served_and_how_wrong_it_was(
        service: ServiceUnderTest, state: Path, tmp_path: Path) -> None:
    preds, labels = "aiops_predictions_total", "aiops_prediction_absolute_error_seconds_count"
    with running_prometheus(tmp_path, {"model-service": f"127.0.0.1:{service.port}"}) as prom, \
            service.client() as client:
        traffic = Traffic(client)
        before = time.time()
        traffic.serve(40, BASELINE_V1, "v1")
        wait_until(lambda: _scraped(prom, {(preds, "v1"): 40, (labels, "v1"): 20}), timeout=scaled(30),
                   interval=0.5, what="the traffic before the fault scraped")
        injected = time.time()
        traffic.serve(10, WINDOW_V1, "v1")
        deploy = client.post("/admin/model/deploy", json={"version": "v2"}, params={"force": "true"},
                             headers=service.admin_headers)
        assert deploy.status_code == 200, deploy.text
        traffic.serve(30, WINDOW_V2, "v2")
        # The baseline is the same length of time before the fault: the window must be as long as the
        # traffic before it took, for the baseline to hold all of it.
        wait_until(lambda: time.time() - injected > injected - before and _scraped(
            prom, {(preds, "v1"): 50, (preds, "v2"): 30, (labels, "v1"): 24, (labels, "v2"): 16}),
            timeout=scaled(30), interval=0.5, what="the incident's traffic scraped")
        j = _journal("bad-model-deploy", injected, time.time())
        j.add("injection", "model v2 deployed", at=injected)
        j.add("learner", "model rollback to v1", at=injected + 1)
        j.add("passed", "success checks hold: incident mitigated", at=j.passed_at)
        text = _write(j, prom)
        rows = {p.title: p for p in sli_chart.panels(prom, *sli_chart.chart_window(j, injected, j.passed_at), True)}

    header = "| model version | predictions served | ground truth received | MAE | ground truth before the fault " \
             "| MAE before the fault |"
    assert header in text
    assert "| v1 | 10 | 4 | 1.50 min | 20 | 1.50 min |" in text
    assert "| v2 | 30 | 16 | 4.00 min | 0 | no data |" in text
    assert "| all versions | 40 | 20 | 3.50 min | 20 | 1.50 min |" in text

    # The chart of the incident: drawn from the same Prometheus, embedded in the Markdown and in the HTML page.
    # v1 served before and during the window (v2, born in it, has a rate only after its second scrape).
    mae = {s.label: s.points for s in rows["MAE from feedback, by model version"].series}
    assert any(v == pytest.approx(90.0, abs=0.5) for _, v in mae["v1"]), "v1's MAE: 1.5 min, as in the table"
    assert rows["/predict p99 latency"].series[0].points and rows["/predict 5xx ratio"].series[0].points
    # No request failed: every point is 0, or NaN where the rate window held no request at all (0/0: a pause
    # between the test's bursts outlasting the window, as on a loaded machine) -- the chart draws a gap there.
    ratio = [v for _, v in rows["/predict 5xx ratio"].series[0].points]
    assert all(v == 0 or math.isnan(v) for v in ratio) and 0 in ratio, f"no request failed: {ratio}"
    report = sli_chart.chart_window(j, injected, j.passed_at)
    assert report[0] < injected < j.passed_at <= report[1]
    out = postmortem.report_dir(j.run_id)
    assert "](sli.png)" in text and (out / "sli.png").read_bytes().startswith(b"\x89PNG")
    assert [m.kind for m in sli_chart.markers(j, [])] == ["injection", "learner", "passed"]
    with chromium() as browser, serving(directory_handler(out)) as base:
        page = browser.load(f"{base}/postmortem.html", wait_for="img")
        assert page.offsite_requests() == [] and page.console_errors == []
        [img] = page.select("img")
        assert img.get_attribute("src").startswith("data:image/png;base64,")
        assert int(img.get_property("naturalWidth")) > 400, "the embedded chart did not decode"


def test_without_prometheus_the_report_says_so_instead_of_a_chart(state: Path) -> None:
    j = _journal("service-crash", 1000.0, 1100.0)
    text = _write(j, _dead_prometheus())
    out = postmortem.report_dir(j.run_id)
    assert "_No chart of the SLIs: Prometheus did not answer when this report was written" in text
    assert not (out / "sli.png").exists() and "](sli.png)" not in text
    html = (out / "postmortem.html").read_text()
    assert "No chart of the SLIs" in html and "<img" not in html and "<!--" not in html


def test_drill_report_writes_its_page_with_the_timeline_and_hides_a_secret_injection(state: Path) -> None:
    drill = catalogue.get("service-crash")
    j = _journal(drill.id, 1000.0, 1100.0)
    j.hidden, j.passed_at, j.status = True, None, "running"
    j.add("injection", "SIGKILL model-service", at=1000.0)
    html = postmortem.write_run_report(j, drill, scoring.score(j, drill, []), [], _dead_prometheus(), hidden=True)
    page = html.read_text()
    assert html.name == "report.html" and (html.parent / "report.md").is_file()
    assert "SIGKILL" not in page and drill.title not in page and "(hidden until the drill ends)" in page
    assert "No chart of the SLIs" in page
