"""The running lab as checks see it: component health, the Prometheus API at a fixed time, the prediction log.

Checks compare a learner's answer with a reference computed *now* from the live lab, so both sides must
see the same data: every PromQL comparison evaluates both expressions at one explicit timestamp. A lab
that is not running is the learner's next step, not a failed exercise: it raises ``NotRunning`` naming
``aiops-lab up``. The clients are the lab's own (``aiops_core.prometheus``, ``model_service.client``).
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from aiops_core import paths
from aiops_core.errors import NotRunning
from aiops_core.http import component_problem
from aiops_core.prometheus import Labels, Prometheus, QueryError
from aiops_core.runstate import component_url
from aiops_core.topology import BY_NAME
from model_service.client import ServiceClient
from model_service.prediction_log import connect

__all__ = ["QueryError", "log_rows", "prediction_log", "query", "require", "service_json", "url"]

START_HINT = "start it with: aiops-lab up -d   (then check again)"
# The service answers a prediction before its writer thread commits it (every ``log_flush_ms``, 50 ms by
# default): a check run right after the learner's request may look before the row is there.
WRITE_BEHIND_S = 2.0


def url(component: str) -> str:
    return component_url(component)


def require(*components: str) -> None:
    """Every named component answers its health endpoint, else ``NotRunning`` naming ``aiops-lab up``."""
    for name in components:
        base = url(name)
        problem = component_problem(name, base + BY_NAME[name].health_path, timeout=3.0)
        if problem is not None:
            raise NotRunning(f"the lab is not running: {name} at {base} does not answer ({problem}); {START_HINT}")


def query(expr: str, at: float) -> list[tuple[Labels, float]]:
    """Instant query at ``at`` (unix seconds); ``QueryError`` carries Prometheus's words for a bad expression."""
    return Prometheus(url("prometheus"), timeout=15.0).vector(expr, at)


def prediction_log() -> sqlite3.Connection:
    """The prediction log, read-only; ``NotRunning`` when the lab has never served a prediction."""
    path = paths.prediction_log_path()
    if not path.is_file():
        raise NotRunning(f"no prediction log at {path}: the model service has not run with this state dir; "
                         "start the lab: aiops-lab up -d")
    return connect(path, readonly=True)


def log_rows(sql: str, params: tuple[Any, ...], wait_s: float = WRITE_BEHIND_S) -> list[tuple[Any, ...]]:
    """The prediction log's rows for ``sql``; when none match, looked for again for up to ``wait_s``, so a
    request answered a moment ago is found once its write-behind commit lands (a check run within ~20 ms of
    the learner's last request reported "no prediction with request id ..." for rows already answered)."""
    deadline = time.monotonic() + wait_s
    while True:
        conn = prediction_log()
        try:
            rows = conn.execute(sql, params).fetchall()
        finally:
            conn.close()
        if rows or time.monotonic() >= deadline:
            return rows
        time.sleep(0.05)


def service_json(path: str) -> Any:
    """GET a JSON endpoint of the model service (``/model``)."""
    return ServiceClient(url("model-service")).request("GET", path)
