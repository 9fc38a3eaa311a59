"""The running lab as checks see it: component URLs, the Prometheus API at a fixed time, the prediction log.

Checks compare a learner's answer with a reference computed *now* from the live lab, so both sides must
see the same data: every PromQL comparison evaluates both expressions at one explicit timestamp
(``/api/v1/query?time=``). A lab that is not running is the learner's next step, not a failed exercise:
it raises ``LabError`` naming ``aiops-lab up``.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import httpx

from labs import paths
from labs.cli.errors import ExitStatus, LabError
from labs.stack.runstate import component_url
from model_service.prediction_log import connect


class QueryError(Exception):
    """Prometheus refused a query (syntax, types): a mistake in the learner's PromQL, shown to them as is."""


def url(component: str) -> str:
    return component_url(component)


def _not_running(component: str, base: str, why: str) -> LabError:
    return LabError(f"the lab is not running: {component} at {base} does not answer ({why}); start it with: "
                    "aiops-lab up -d   (then check again)", ExitStatus.NOT_RUNNING)


def require(*components: str) -> None:
    """Every named component answers its health endpoint, else ``LabError`` naming ``aiops-lab up``."""
    health = {"prometheus": "/-/ready", "alertmanager": "/-/ready"}
    for name in components:
        base = url(name)
        try:
            status = httpx.get(base + health.get(name, "/healthz"), timeout=3.0).status_code
        except httpx.HTTPError as exc:
            raise _not_running(name, base, type(exc).__name__) from None
        if status != 200:
            raise _not_running(name, base, f"HTTP {status}")


def query(expr: str, at: float) -> list[tuple[dict[str, str], float]]:
    """Instant query at ``at`` (unix seconds): (labels, value) per series; a scalar is one unlabelled series."""
    base = url("prometheus")
    try:
        resp = httpx.get(base + "/api/v1/query", params={"query": expr, "time": f"{at:.3f}"}, timeout=15.0)
    except httpx.HTTPError as exc:
        raise _not_running("prometheus", base, type(exc).__name__) from None
    try:
        body: dict[str, Any] = resp.json()
    except ValueError:
        raise _not_running("prometheus", base, f"HTTP {resp.status_code} without JSON") from None
    if body.get("status") != "success":
        raise QueryError(str(body.get("error", resp.text)))
    data = body["data"]
    if data["resultType"] == "scalar":
        return [({}, float(data["result"][1]))]
    if data["resultType"] != "vector":
        raise QueryError(f"the expression returns a {data['resultType']}, not an instant vector; drop the "
                         "[range] at the end (wrap it in rate(...) or *_over_time(...))")
    return [(r["metric"], float(r["value"][1])) for r in data["result"]]


def prediction_log() -> sqlite3.Connection:
    """The prediction log, read-only; ``LabError`` when the lab has never served a prediction."""
    path: Path = paths.prediction_log_path()
    if not path.is_file():
        raise LabError(f"no prediction log at {path}: the model service has not run with this state dir; "
                       "start the lab: aiops-lab up -d", ExitStatus.NOT_RUNNING)
    return connect(path, readonly=True)


def service_json(path: str) -> Any:
    """GET a JSON endpoint of the model service (``/model``)."""
    base = url("model-service")
    try:
        resp = httpx.get(base + path, timeout=10.0)
    except httpx.HTTPError as exc:
        raise _not_running("model-service", base, type(exc).__name__) from None
    if resp.status_code != 200:
        raise LabError(f"GET {base}{path} answered HTTP {resp.status_code}: {resp.text[:200]}; see: aiops-lab "
                       "status", ExitStatus.NOT_RUNNING)
    return resp.json()
