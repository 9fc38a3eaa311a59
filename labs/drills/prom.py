"""A small client for the lab's Prometheus HTTP API (instant and range queries), used by checks and reports.

Errors become ``PromError`` with the query and what to do, never a traceback: the learner runs ``drill
check`` while things are broken, and Prometheus itself may be the broken thing.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from labs.stack.runstate import component_url


class PromError(RuntimeError):
    """Prometheus could not answer a query; the message says why."""


class Prometheus:
    def __init__(self, base_url: str | None = None, timeout: float = 10.0) -> None:
        self.base_url = (base_url or component_url("prometheus")).rstrip("/")
        self.timeout = timeout

    def _get(self, path: str, params: dict[str, Any]) -> Any:
        try:
            resp = httpx.get(self.base_url + path, params=params, timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise PromError(f"Prometheus at {self.base_url} is not reachable ({type(exc).__name__}); "
                            "check it with: aiops-lab status") from None
        try:
            body = resp.json()
        except ValueError:
            raise PromError(f"Prometheus answered HTTP {resp.status_code} without JSON") from None
        if body.get("status") != "success":
            raise PromError(f"query {params.get('query')!r} failed: {body.get('error', resp.text)}")
        return body["data"]

    def vector(self, query: str, at: float | None = None) -> list[tuple[dict[str, str], float]]:
        """An instant query: (labels, value) per series; a scalar comes back as one unlabelled series."""
        params: dict[str, Any] = {"query": query}
        if at is not None:
            params["time"] = f"{at:.3f}"
        data = self._get("/api/v1/query", params)
        if data["resultType"] == "scalar":
            return [({}, float(data["result"][1]))]
        return [(r["metric"], float(r["value"][1])) for r in data["result"]]

    def value(self, query: str, at: float | None = None) -> float | None:
        """The single value of a query (None: no data). Several series -> the first one."""
        series = self.vector(query, at)
        return series[0][1] if series else None

    def series(self, query: str, start: float, end: float, step: float) -> list[tuple[float, float]]:
        """A range query of a single-series expression: [(ts, value)], only the steps that have data."""
        data = self._get("/api/v1/query_range", {"query": query, "start": f"{start:.3f}", "end": f"{end:.3f}",
                                                 "step": f"{max(step, 0.5):.3f}"})
        if not data["result"]:
            return []
        return [(float(ts), float(v)) for ts, v in data["result"][0]["values"]]

    def alerts(self) -> list[dict[str, Any]]:
        """Alerts Prometheus holds right now (pending and firing), with their labels."""
        return list(self._get("/api/v1/alerts", {})["alerts"])

    def ready(self) -> bool:
        try:
            return httpx.get(self.base_url + "/-/ready", timeout=2.0).status_code == 200
        except httpx.HTTPError:
            return False

    def reload(self) -> bool:
        """POST /-/reload (needs --web.enable-lifecycle). False when reload is not enabled."""
        try:
            return httpx.post(self.base_url + "/-/reload", timeout=10.0).status_code == 200
        except httpx.HTTPError:
            return False

    def scrape_interval(self) -> float:
        """The global scrape interval from the running config (default 15 s if unknown)."""
        try:
            import yaml

            cfg = yaml.safe_load(self._get("/api/v1/status/config", {})["yaml"])
            raw = str(cfg.get("global", {}).get("scrape_interval", "15s"))
            from labs.drills.schema import parse_duration

            return parse_duration(raw)
        except (PromError, ValueError, AttributeError):
            return 15.0


def now() -> float:
    return time.time()
