"""The whole alerting path, for real: an injected error burst -> Prometheus fast-burn alert -> Alertmanager ->
the lab pager records the page; reverting the flag resolves it. Also measures injection-to-page time.

A job of the drill pool (it needs a whole lab, and mostly waits): ``test_alert_path.py`` reports its outcome.
"""

from __future__ import annotations

import threading
import time

import httpx

from aiops_core import http as lab_http
from aiops_core.durations import parse_seconds
from aiops_core.paths import REPO_ROOT
from aiops_core.polling import wait_until
from model_service import generator
from tests.labs.drills.lab import Lab
from tests.labs.drills.pool import Job

ALERT = "ModelServiceErrorBudgetBurn"


class Traffic(threading.Thread):
    """Bounded background traffic: ~20 req/s for at most ``max_s`` seconds, stopped on demand."""

    def __init__(self, url: str, max_s: float = 240) -> None:
        super().__init__(daemon=True)
        self.url, self.max_s = url, max_s
        self.stop_event = threading.Event()
        self.records = generator.records(generator.generate(500, seed=3))

    def run(self) -> None:
        deadline = time.monotonic() + self.max_s
        self.transport_errors = 0
        with lab_http.new_client(base_url=self.url, timeout=5.0) as client:
            i = 0
            while not self.stop_event.is_set() and time.monotonic() < deadline:
                try:
                    client.post("/predict", json=self.records[i % len(self.records)])
                except httpx.TransportError:
                    # A keep-alive connection the server closed as the request went out (a loaded machine
                    # widens that race): a real client retries on a new connection, and the traffic must go
                    # on, or the burst never burns the budget and the page never comes.
                    self.transport_errors += 1
                i += 1
                self.stop_event.wait(0.05)


def _pages(pager: str, since: float) -> list[dict]:
    return lab_http.get(pager + "/pages", params={"alertname": ALERT, "since": f"{since:.3f}"}, timeout=3).json()


def error_burst_pages_and_resolves(lab: Lab) -> str:
    service, pager, prom = lab.url("model-service"), lab.url("pager"), lab.url("prometheus")
    since = time.time()
    traffic = Traffic(service)
    traffic.start()
    try:
        # Healthy traffic first: the alert must stay silent.
        wait_until(lambda: lab_http.get(prom + "/api/v1/query",
                                        params={"query": 'sum(aiops_http_requests_total{route="/predict"})'}
                                        ).json()["data"]["result"], timeout=60, what="service metrics in Prometheus")
        assert _pages(pager, since) == []

        injected = time.monotonic()
        flipped = lab.cli("config", "set", "error_ratio", "1", "--reason", "test: error burst")
        assert flipped.returncode == 0, flipped.stderr
        firing = wait_until(lambda: [p for p in _pages(pager, since) if p["status"] == "firing"], timeout=180,
                            interval=0.5, what=f"{ALERT} page in the pager")
        page = min(firing, key=lambda p: parse_seconds(p["labels"].get("long_window", "0")))  # the fast burn
        ttd = time.monotonic() - injected
        assert page["labels"]["severity"] == "page"
        assert page["runbook_url"].endswith(f"{ALERT}.md")
        assert (REPO_ROOT / "runbooks" / f"{ALERT}.md").is_file()

        assert lab.cli("config", "set", "error_ratio", "0").returncode == 0
        # The page of *this* burn window resolves. A pool lab may have served an error-burst drill minutes
        # before: its errors are still in the longer windows (6h/30m, compressed), whose page then fires too
        # and resolves on that window's own clock -- after 240 s once (final19), so it is not waited for.
        window = page["labels"]
        wait_until(lambda: all(p["status"] == "resolved" for p in _pages(pager, since) if p["labels"] == window),
                   timeout=240, interval=1.0, what=f"{ALERT} {window.get('long_window')} resolved in the pager")
    finally:
        traffic.stop_event.set()
        traffic.join(10)
        lab.traffic_stopped_at = time.time()
    return f"injection -> page: {ttd:.1f}s"


JOBS = [Job("alert path: error burst pages and resolves", error_burst_pages_and_resolves, cost_s=85,
            avoid_alerts=frozenset({ALERT}), dilutable=True)]
