"""The whole alerting path, for real: an injected error burst -> Prometheus fast-burn alert -> Alertmanager ->
the lab pager records the page; reverting the flag resolves it. Also measures injection-to-page time."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import httpx
import pytest

from aiops_core.paths import REPO_ROOT
from aiops_core.polling import wait_until
from model_service import generator
from tests.labs.stack.conftest import run_cli

pytestmark = pytest.mark.integration
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
        with httpx.Client(base_url=self.url, timeout=5.0) as client:
            i = 0
            while not self.stop_event.is_set() and time.monotonic() < deadline:
                client.post("/predict", json=self.records[i % len(self.records)])
                i += 1
                self.stop_event.wait(0.05)


def _pages(pager: str) -> list[dict]:
    return httpx.get(pager + "/pages", params={"alertname": ALERT}, timeout=3).json()


def test_error_burst_pages_and_resolves(lab_env: dict[str, str]) -> None:
    assert run_cli(lab_env, "up", "-d", "--timeout", "150").returncode == 0
    lab = json.loads((Path(lab_env["AIOPS_STATE_DIR"]) / "run" / "lab.json").read_text())
    service = lab["components"]["model-service"]["url"]
    pager = lab["components"]["pager"]["url"]
    traffic = Traffic(service)
    traffic.start()
    try:
        # Healthy traffic first: the alert must stay silent.
        wait_until(lambda: httpx.get(lab["components"]["prometheus"]["url"] + "/api/v1/query",
                                     params={"query": 'sum(aiops_http_requests_total{route="/predict"})'}
                                     ).json()["data"]["result"], timeout=60, what="service metrics in Prometheus")
        assert _pages(pager) == []

        injected = time.monotonic()
        flipped = run_cli(lab_env, "config", "set", "error_ratio", "1", "--reason", "test: error burst")
        assert flipped.returncode == 0, flipped.stderr
        page = wait_until(lambda: [p for p in _pages(pager) if p["status"] == "firing"], timeout=180,
                          interval=0.5, what=f"{ALERT} page in the pager")[0]
        ttd = time.monotonic() - injected
        print(f"\ninjection -> page: {ttd:.1f}s")
        assert page["labels"]["severity"] == "page"
        assert page["runbook_url"].endswith(f"{ALERT}.md")
        assert (REPO_ROOT / "runbooks" / f"{ALERT}.md").is_file()

        assert run_cli(lab_env, "config", "set", "error_ratio", "0").returncode == 0
        wait_until(lambda: all(p["status"] == "resolved" for p in _pages(pager)), timeout=240, interval=1.0,
                   what=f"{ALERT} resolved in the pager")
    finally:
        traffic.stop_event.set()
        traffic.join(10)
        run_cli(lab_env, "down")
