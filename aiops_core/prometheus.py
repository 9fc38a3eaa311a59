"""The lab's one client for the Prometheus HTTP API: instant and range queries, alerts, readiness, reload.

Used by the drill checks and reports, the curriculum's checks, ``aiops-lab status`` and the tests. Errors
never become tracebacks: the learner queries while things are broken, and Prometheus itself may be the
broken thing. ``PromUnavailable`` (exit 3) means "Prometheus does not answer"; ``QueryError`` (exit 2)
means "Prometheus refused this expression", shown as is because it is usually the learner's PromQL.
"""

from __future__ import annotations

from typing import Any

import httpx

from aiops_core import http as lab_http
from aiops_core.errors import LabError, NotRunning
from aiops_core.runstate import component_url

Labels = dict[str, str]
Points = list[tuple[float, float]]


class PromError(LabError):
    """Prometheus could not answer a query; the message says why."""


class PromUnavailable(PromError, NotRunning):
    """Prometheus is not reachable, or answered without JSON."""


class QueryError(PromError):
    """Prometheus refused the expression (syntax, types): a mistake in the PromQL. The message is
    Prometheus's own words, shown to the learner as is; ``query`` is the expression."""

    def __init__(self, message: str, query: str = "") -> None:
        super().__init__(message)
        self.query = query


class Prometheus:
    def __init__(self, base_url: str | None = None, timeout: float = 10.0, http: httpx.Client | None = None) -> None:
        """``http``: a keep-alive client for callers that send many queries (a dashboard check sends
        hundreds); by default each call is one short request, as a CLI command needs."""
        self.base_url = (base_url or component_url("prometheus")).rstrip("/")
        self.timeout = timeout
        self.http = http

    def _get(self, path: str, params: dict[str, Any]) -> Any:
        get = self.http.get if self.http is not None else lab_http.get
        try:
            resp = get(self.base_url + path, params=params, timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise PromUnavailable(f"Prometheus at {self.base_url} is not reachable ({type(exc).__name__}); "
                                  "check it with: aiops-lab status (start the lab with: aiops-lab up -d)") from None
        try:
            body = resp.json()
        except ValueError:
            raise PromUnavailable(f"Prometheus at {self.base_url} answered HTTP {resp.status_code} without "
                                  "JSON; check it with: aiops-lab status") from None
        if body.get("status") != "success":
            raise QueryError(str(body.get("error", resp.text)), str(params.get("query", "")))
        return body["data"]

    def vector(self, query: str, at: float | None = None) -> list[tuple[Labels, float]]:
        """An instant query: (labels, value) per series; a scalar comes back as one unlabelled series."""
        params: dict[str, Any] = {"query": query}
        if at is not None:
            params["time"] = f"{at:.3f}"
        data = self._get("/api/v1/query", params)
        if data["resultType"] == "scalar":
            return [({}, float(data["result"][1]))]
        if data["resultType"] != "vector":
            raise QueryError(f"the expression returns a {data['resultType']}, not an instant vector; drop the "
                             "[range] at the end (wrap it in rate(...) or *_over_time(...))", query)
        return [(r["metric"], float(r["value"][1])) for r in data["result"]]

    def value(self, query: str, at: float | None = None) -> float | None:
        """The single value of a query (None: no data). Several series -> the first one."""
        series = self.vector(query, at)
        return series[0][1] if series else None

    def matrix(self, query: str, start: float, end: float, step: float) -> list[tuple[Labels, Points]]:
        """A range query: (labels, [(ts, value)]) per series, only the steps that have data."""
        data = self._get("/api/v1/query_range", {"query": query, "start": f"{start:.3f}", "end": f"{end:.3f}",
                                                 "step": f"{max(step, 0.5):.3f}"})
        return [(r["metric"], [(float(ts), float(v)) for ts, v in r["values"]]) for r in data["result"]]

    def series(self, query: str, start: float, end: float, step: float) -> Points:
        """A range query of a single-series expression: [(ts, value)] of its first series."""
        result = self.matrix(query, start, end, step)
        return result[0][1] if result else []

    def alerts(self) -> list[dict[str, Any]]:
        """Alerts Prometheus holds right now (pending and firing), with their labels."""
        return list(self._get("/api/v1/alerts", {})["alerts"])

    def rule_groups(self) -> list[dict[str, Any]]:
        """The loaded rule groups with each rule's health, last error and (for alerts) state."""
        return list(self._get("/api/v1/rules", {})["groups"])

    def targets(self) -> list[dict[str, Any]]:
        """The active scrape targets with their labels and health."""
        return list(self._get("/api/v1/targets", {})["activeTargets"])

    def ready(self) -> bool:
        try:
            return lab_http.get(self.base_url + "/-/ready", timeout=2.0).status_code == 200
        except httpx.HTTPError:
            return False

    def last_reload(self) -> float | None:
        """When the running Prometheus last loaded its config successfully (its start counts), from its own
        ``/metrics`` -- not a query, so it is exact and immediate; None when Prometheus does not answer."""
        try:
            text = lab_http.get(self.base_url + "/metrics", timeout=self.timeout).text
        except httpx.HTTPError:
            return None
        for line in text.splitlines():
            if line.startswith("prometheus_config_last_reload_success_timestamp_seconds "):
                try:
                    return float(line.split()[1])
                except (IndexError, ValueError):
                    return None
        return None

    def reload(self) -> bool:
        """POST /-/reload (needs --web.enable-lifecycle). False when reload is not enabled or fails."""
        try:
            return lab_http.post(self.base_url + "/-/reload", timeout=10.0).status_code == 200
        except httpx.HTTPError:
            return False
