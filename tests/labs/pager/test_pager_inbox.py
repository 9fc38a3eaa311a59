"""The pager as a learner's inbox (issue 13): a browser gets pages it can read, scripts keep their JSON.

The real pager process on a free port, fed through its own webhook API with the lab token (as Alertmanager
does), read by headless Chromium (tests/support/browser.py): the page with its summary, its age in words,
a runbook link that renders the runbook from runbooks/, the acknowledgement with who, and the heartbeat.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest

from aiops_core import http as lab_http
from tests.labs.pager.test_pager_api import LAB_CALLER, PagerUnderTest, start_pager
from tests.labs.pager.test_pager_logic import alert, payload
from tests.support.browser import Browser

pytestmark = pytest.mark.integration
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"


@pytest.fixture(scope="module")
def pager(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PagerUnderTest]:
    pgr = start_pager(tmp_path_factory.mktemp("inbox"))
    started = time.time() - 125  # fired two minutes before it was paged
    page = alert("ModelServiceDown", starts=started, fingerprint="fp-down",
                 summary="The model service does not answer its scrapes")
    resolved = alert("DriftMonitorStale", starts=started, ends=started + 30, status="resolved", fingerprint="fp-stale")
    assert pgr.post("/alerts", payload(page)).status_code == 200
    assert pgr.post("/alerts", payload(alert("DriftMonitorStale", starts=started, fingerprint="fp-stale"))).is_success
    assert pgr.post("/alerts", payload(resolved)).status_code == 200
    try:
        yield pgr
    finally:
        pgr.process.stop()


def test_api_clients_still_get_json(pager: PagerUnderTest) -> None:
    for headers in ({}, {"Accept": "application/json"}, {"Accept": "*/*"}, {"Accept": "application/json, text/html"}):
        resp = lab_http.get(pager.url + "/pages", headers=headers, timeout=5)
        assert resp.headers["content-type"] == "application/json", headers
        assert {p["alertname"] for p in resp.json()} == {"ModelServiceDown", "DriftMonitorStale"}


def test_a_browser_gets_the_inbox_at_pages_and_root(pager: PagerUnderTest) -> None:
    for path in ("/pages", "/"):
        resp = lab_http.get(pager.url + path, headers={"Accept": BROWSER_ACCEPT}, timeout=5)
        assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/html"), path
        assert "The model service does not answer its scrapes" in resp.text
        assert "1800000000" not in resp.text and not re.search(r"\b1[78]\d{8}\.\d", resp.text)  # no epoch seconds


def test_inbox_shows_the_page_its_age_runbook_and_heartbeat(pager: PagerUnderTest, browser: Browser) -> None:
    inbox = browser.load(pager.url + "/", wait_for="tr.page")
    rows = {r.get_attribute("data-alertname"): r for r in inbox.select("tr.page")}
    down = rows["ModelServiceDown"]
    assert down.get_attribute("data-status") == "firing"
    assert "The model service does not answer its scrapes" in down.text
    age = down.find_element("css selector", "td.age")
    assert re.fullmatch(r"\d+s ago", age.text) and age.get_attribute("title").endswith(" UTC"), age.text
    assert "aiops-lab pager ack ModelServiceDown" in down.find_element("css selector", "td.ack").text
    assert rows["DriftMonitorStale"].get_attribute("data-status") == "resolved"
    assert inbox.select("#heartbeat")[0].get_attribute("data-state") == "unknown"
    assert inbox.select("meta[http-equiv='refresh']"), "the inbox must refresh itself"
    assert inbox.offsite_requests() == [], inbox.requests
    assert inbox.console_errors == []

    href = down.find_element("css selector", "a.runbook").get_attribute("href")
    assert href == pager.url + "/runbooks/ModelServiceDown"
    runbook = browser.load(href, wait_for="#runbook h2")
    assert runbook.texts("#runbook h2")[:2] == ["Meaning", "Impact"]
    assert runbook.console_errors == [] and runbook.offsite_requests() == []


def test_an_ack_and_a_heartbeat_show_up(pager: PagerUnderTest, browser: Browser) -> None:
    assert pager.post("/pages/ack", {"target": "ModelServiceDown", "by": "learner"}).status_code == 200
    assert pager.post("/heartbeat", {}).status_code == 200
    inbox = browser.load(pager.url + "/pages?status=firing", wait_for="tr.page")
    [row] = inbox.select("tr.page")
    assert re.fullmatch(r"by learner, \d+s ago", row.find_element("css selector", "td.ack").text)
    assert inbox.select("#heartbeat")[0].get_attribute("data-state") == "ok"


def test_runbook_links_between_runbooks_work_and_bad_names_are_404(pager: PagerUnderTest) -> None:
    page = lab_http.get(pager.url + "/runbooks/AlertmanagerNotificationsFailing", timeout=5)
    assert page.status_code == 200 and 'href="/runbooks/PagerDown"' in page.text
    missing = lab_http.get(pager.url + "/runbooks/NoSuchAlert", timeout=5)
    assert missing.status_code == 404 and "runbook &#39;NoSuchAlert&#39; does not exist" in missing.text
    for name in ("../pyproject", "..%2F..%2Fpyproject", "drills/../../pyproject", ".hidden"):
        resp = lab_http.get(pager.url + "/runbooks/" + name, timeout=5)
        assert resp.status_code == 404, name
        assert "[project]" not in resp.text, name


def test_writes_from_the_inbox_still_need_the_token(pager: PagerUnderTest) -> None:
    """The inbox offers a command, not a form: the ack endpoint stays closed to token-less callers."""
    resp = lab_http.post(pager.url + "/pages/ack", data={"target": "ModelServiceDown", "by": "web"}, timeout=5)
    assert resp.status_code == 401
    assert LAB_CALLER  # the lab's own callers (CLI, Alertmanager) carry it




def test_the_inbox_links_the_dashboards_drawn_without_grafana(pager: PagerUnderTest, browser: Browser) -> None:
    """``aiops-lab dashboard render NAME`` writes a page into the reports dir; the pager lists every dashboard,
    links the drawn ones and names the command for the others, and refuses names that are not dashboards."""
    drawn = pager.state_dir / "reports" / "dashboards" / "service.html"
    drawn.parent.mkdir(parents=True, exist_ok=True)
    drawn.write_text("<!doctype html><title>drawn</title><h1 id='drawn'>aiops-lab / Service</h1>")

    inbox = browser.load(pager.url + "/", wait_for="nav")
    assert pager.url + "/dashboards" in [a.get_attribute("href") for a in inbox.select("nav a")]
    listing = browser.load(pager.url + "/dashboards", wait_for="tr.dashboard")
    rows = {r.get_attribute("data-name"): r for r in listing.select("tr.dashboard")}
    assert set(rows) == {"incident", "model", "service"}
    assert "not drawn yet" in rows["model"].text and "aiops-lab dashboard render model" in rows["model"].text
    link = rows["service"].find_element("css selector", "a").get_attribute("href")
    assert link == pager.url + "/dashboards/service" and re.search(r"\d+s ago", rows["service"].text)
    assert browser.load(link, wait_for="#drawn").texts("#drawn") == ["aiops-lab / Service"]
    assert listing.offsite_requests() == [] and listing.console_errors == []

    for name in ("model", "nope"):
        resp = lab_http.get(f"{pager.url}/dashboards/{name}", timeout=5)
        assert resp.status_code == 404 and "aiops-lab dashboard render" in resp.text, (name, resp.text)
    assert lab_http.get(f"{pager.url}/dashboards/..%2Fpager.db", timeout=5).status_code == 404
