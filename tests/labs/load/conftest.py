"""Fixtures for load tests: an isolated reports dir, the CLI as a subprocess, and the service's counters.

Locust monkey-patches the interpreter with gevent when imported. The shape tests need Locust's classes but
none of its networking, so Locust is imported here once with patching switched off, keeping the rest of
the test session (threads, subprocesses, httpx) untouched.
"""

from __future__ import annotations

import os
import subprocess
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from aiops_core import http as lab_http

os.environ["LOCUST_SKIP_MONKEY_PATCH"] = "1"
try:
    import locust  # noqa: F401
finally:
    del os.environ["LOCUST_SKIP_MONKEY_PATCH"]

from tests.support.lab import Lab, lab_environment
from tests.support.processes import ServiceUnderTest, service_with_registry


@pytest.fixture(scope="module")
def shared_service(tmp_path_factory: pytest.TempPathFactory, trained_registry: Path) -> Iterator[ServiceUnderTest]:
    """One real service for the tests that only need *a* target (not fresh counters): saves a start-up each."""
    with service_with_registry(tmp_path_factory.mktemp("load-service") / "state", trained_registry) as svc:
        yield svc


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    """Environment for ``aiops-lab`` with its own state and reports directories, and ports of its own."""
    return lab_environment(tmp_path / "cli-state", AIOPS_REPORTS_DIR=str(tmp_path / "reports"))


def run_cli(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return Lab(env).cli(*args, timeout=timeout)


def report_dirs(env: dict[str, str]) -> list[Path]:
    root = Path(env["AIOPS_REPORTS_DIR"]) / "load"
    return sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []


def request_counts(base_url: str) -> dict[str, float]:
    """``aiops_http_requests_total`` summed per route, as the service itself counted."""
    text = lab_http.get(base_url + "/metrics", timeout=5.0).text
    out: dict[str, float] = defaultdict(float)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "aiops_http_requests_total":
                out[sample.labels["route"]] += sample.value
            elif sample.name == "aiops_feedback_total":
                out["feedback_total"] += sample.value
    return out
