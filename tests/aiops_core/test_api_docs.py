"""``/docs`` and ``/redoc`` of every HTTP app of the lab draw their API in a real browser, offline.

Issue 13: on a fresh machine without internet ``/docs`` was a blank page (Swagger UI and ReDoc came from a
CDN). Each app here is the real process on a free loopback port; Chromium (tests/support/browser.py) must
list the app's operations, request nothing outside 127.0.0.1 (it has no route to anywhere else) and log no
console error.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from aiops_core import http as lab_http
from tests.labs.pager.test_pager_api import start_pager
from tests.labs.traffic_feed.feed import start_feed
from tests.support.browser import Browser
from tests.support.processes import free_port, lab_env, start_http_process

pytestmark = pytest.mark.integration
APPS = ("model-service", "pager", "drift-monitor", "traffic-feed")


@pytest.fixture(scope="module")
def apps(tmp_path_factory: pytest.TempPathFactory, trained_registry: Path) -> Iterator[dict[str, str]]:
    """The four apps, started once for this module: name -> base URL."""
    from tests.support.processes import service_with_registry

    state = tmp_path_factory.mktemp("docs-lab")
    started = []
    try:
        with service_with_registry(state / "svc", trained_registry) as svc:
            pager = start_pager(state / "pager")
            started.append(pager.process)
            feed = start_feed(state / "feed")
            started.append(feed.process)
            port = free_port()
            drift = start_http_process("monitoring.drift", "drift monitor", state / "drift",
                                       lab_env(state / "drift", AIOPS_DRIFT_MONITOR_PORT=str(port)), port)
            started.append(drift)
            yield {"model-service": svc.url, "pager": pager.url, "drift-monitor": f"http://127.0.0.1:{port}",
                   "traffic-feed": feed.url}
    finally:
        for proc in started:
            proc.stop()


def _operations(base: str) -> set[str]:
    schema = lab_http.get(base + "/openapi.json", timeout=10).json()
    return {path for path, ops in schema["paths"].items() for op in ops.values() if isinstance(op, dict)}


@pytest.mark.parametrize("app", APPS)
@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_doc_pages_reference_no_cdn(apps: dict[str, str], app: str, page: str) -> None:
    """The HTML itself names only this server's assets (fails on FastAPI's CDN defaults without a browser)."""
    resp = lab_http.get(apps[app] + page, timeout=10)
    assert resp.status_code == 200, resp.text
    assert not re.findall(r"(?:src|href)=[\"']?(?:https?:)?//", resp.text), resp.text


@pytest.mark.parametrize("app", APPS)
def test_swagger_ui_lists_every_operation_offline(apps: dict[str, str], app: str, browser: Browser) -> None:
    page = browser.load(apps[app] + "/docs", wait_for=".opblock")
    shown = {e.get_attribute("data-path") for e in page.select(".opblock-summary-path")}
    assert shown == _operations(apps[app]), shown
    assert page.offsite_requests() == [], page.requests
    assert page.console_errors == []


@pytest.mark.parametrize("app", APPS)
def test_redoc_draws_every_operation_offline(apps: dict[str, str], app: str, browser: Browser) -> None:
    page = browser.load(apps[app] + "/redoc", wait_for="[data-section-id^='operation/']")
    drawn = page.select("[data-section-id^='operation/']")
    assert len(drawn) >= len(_operations(apps[app])), page.texts("[data-section-id^='operation/'] h2")
    assert page.offsite_requests() == [], page.requests
    assert page.console_errors == []
