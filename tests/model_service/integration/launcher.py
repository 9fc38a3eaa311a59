"""Helpers for the service's integration tests: fresh state dirs, launching (with or without an admin
token), and reading the prediction log the way the drift monitor does."""

from __future__ import annotations

import shutil
import signal
import sqlite3
from pathlib import Path

from model_service.prediction_log import connect
from tests.support.processes import ADMIN_TOKEN, ServiceUnderTest, start_service


def fresh_state(trained_registry: Path, root: Path) -> Path:
    """A state dir holding a private copy of the trained registry (v1 active, v2 bad)."""
    state = root / "state"
    shutil.copytree(trained_registry, state / "models")
    return state


def launch(state_dir: Path, admin_token: str | None = ADMIN_TOKEN, wait_ready: bool = True,
           **env_extra: str) -> ServiceUnderTest:
    """Start ``python -m model_service`` on a free port; wait until /readyz says ready (or /healthz answers)."""
    return start_service(state_dir, wait_ready=wait_ready, admin_token=admin_token, **env_extra)


def logged_rows(state_dir: Path, columns: str = "id") -> list[tuple]:
    """Prediction-log rows in commit order (seq), read the way the drift monitor reads them."""
    db = state_dir / "predictions.db"
    if not db.exists():
        return []
    conn = connect(db, readonly=True)
    try:
        return conn.execute(f"SELECT {columns} FROM predictions ORDER BY seq").fetchall()
    except sqlite3.OperationalError:  # table not created yet
        return []
    finally:
        conn.close()


def stop_cleanly(svc: ServiceUnderTest, timeout: float = 30.0) -> None:
    """SIGTERM, then check the shutdown was graceful.

    uvicorn re-raises the signal after its graceful shutdown, so a clean exit is status 0 or -SIGTERM; the
    proof of cleanliness is the log: the prediction log was flushed and nothing raised.
    """
    proc = svc.process.proc
    assert proc is not None
    try:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout)
    finally:
        svc.process.stop()  # SIGKILL if the graceful shutdown hung; always closes the log file
    output = svc.process.output()
    assert code in (0, -signal.SIGTERM), f"exit status {code}:\n{output[-3000:]}"
    assert "prediction log flushed" in output, output[-3000:]
    assert "Traceback" not in output and '"level": "error"' not in output, output[-3000:]


# Passes the schema, fails in register_upload (422): the cheapest request that walks the whole upload path,
# scikit-learn import included.
SCHEMA_VALID_BAD_UPLOAD = {"card": {}, "model_skops_b64": "AAAA", "reference_csv": "a,b\n1,2\n3,4"}
