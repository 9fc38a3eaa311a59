"""The prediction log's faults an SRE injected into a running lab (issue 14, items 1 and 8), on the real service.

* ``rm .lab/predictions.db-wal .lab/predictions.db-shm``, then ``rm -f .lab/predictions.db*``, under traffic:
  every prediction answered 200 -- before, during and after -- is in the database file at the original path
  (the writer checkpoints its unlinked WAL into the file, or copies what the removed file held into a new one),
  the service stays ready, and the ticket fires on a real Prometheus with the lab-mode rules.
* The file removed and its path blocked: predictions get 503 naming the cause and the service is not ready,
  instead of acknowledging rows that only a deleted file would hold; it recovers by itself once it can.
* Another process holding the write lock (``BEGIN EXCLUSIVE``): the service says so once per kind in its log,
  with SQLite's message; the backlog gauge counts every unwritten row, the batch being retried included;
  readiness drops (on /readyz and as ``aiops_readiness``) and comes back when the lock is released.

The tests share one service (each leaves it ready and drained) and compare counters with their own start.
The not-ready page (``ModelServiceNotReady``) is covered by promtool unit tests.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from aiops_core.polling import wait_until
from tests.model_service.integration.burst import RECORD, Burst
from tests.model_service.integration.launcher import launch, logged_rows
from tests.model_service.integration.scrape import scrape, value
from tests.model_service.log_file_faults import SIDECARS, SUFFIXES, remove, remove_and_block
from tests.support.processes import ServiceUnderTest
from tests.support.prometheus import running_prometheus
from tests.support.speed import scaled

pytestmark = pytest.mark.integration

FILE_LOST = "ModelServicePredictionLogFileLost"


@pytest.fixture(scope="module")
def service(module_state: Path) -> Iterator[ServiceUnderTest]:
    """One service for the module: every test leaves it ready and its log drained. A commit waits 200 ms for a
    lock instead of 5 s, so a locked database fails several commits in a second."""
    svc = launch(module_state, AIOPS_LOG_BUSY_TIMEOUT_MS="200")
    try:
        yield svc
    finally:
        svc.process.stop()


@pytest.fixture
def client(service: ServiceUnderTest) -> Iterator[httpx.Client]:
    with service.client() as c:
        yield c


def _missing(state: Path, acked: list[str]) -> list[str]:
    logged = {r[0] for r in logged_rows(state)}
    return [pid for pid in acked if pid not in logged]


def _log_lines(svc: ServiceUnderTest, since: int) -> list[dict]:
    """The service's JSON log lines written after the first ``since`` characters of its output."""
    return [json.loads(line) for line in svc.process.output()[since:].splitlines() if line.startswith("{")]


def _drained(client: httpx.Client) -> bool:
    samples = scrape(client)
    return (value(samples, "aiops_prediction_log_queue_depth") == 0
            and value(samples, "aiops_readiness", check="prediction_log_writable") == 1)


def test_deleting_the_database_under_traffic_loses_no_acknowledged_prediction(
        service: ServiceUnderTest, client: httpx.Client, tmp_path: Path) -> None:
    state = service.state_dir
    db = state / "predictions.db"
    replaced = value(scrape(client), "aiops_prediction_log_file_replaced_total")
    copied = value(scrape(client), "aiops_prediction_log_recoveries_total", outcome="copied")
    since = len(service.process.output())
    with running_prometheus(tmp_path / "prometheus", {"model-service": f"127.0.0.1:{service.port}"}) as prom:
        with Burst(service.url, clients=4) as burst:
            burst.wait_for(300)
            wait_until(lambda: not _missing(state, burst.acked[:300]), timeout=scaled(20), what="rows committed")
            # The sidecars alone, then everything. If the writer recovers the main file between the removal of
            # "" and of "-wal", the loop removes the new file's sidecars: one more event, handled the same way.
            for files in (SIDECARS, SUFFIXES):
                seen = value(scrape(client), "aiops_prediction_log_file_replaced_total")
                remove(db, files)
                wait_until(lambda seen=seen: value(scrape(client), "aiops_prediction_log_file_replaced_total") > seen,
                           timeout=scaled(20), what=f"the removal of {files} noticed")
                burst.wait_for(len(burst.acked) + 300)
        assert burst.refused == [], "nothing needed refusing: the rows had somewhere to go"
        # What a restart would open: the file at the original path, read by a new connection of another process.
        wait_until(lambda: not _missing(state, burst.acked), timeout=scaled(20),
                   what="every acknowledged prediction in the file at the original path")
        assert client.get("/readyz").status_code == 200
        samples = scrape(client)
        events = value(samples, "aiops_prediction_log_file_replaced_total") - replaced
        assert events >= 2
        assert value(samples, "aiops_prediction_log_recoveries_total", outcome="copied") == copied + events
        # The ticket: the lab-mode rule, evaluated by a real Prometheus scraping the real service.
        wait_until(lambda: prom.vector(f'ALERTS{{alertname="{FILE_LOST}",alertstate="firing"}}'),
                   timeout=scaled(30), what=f"{FILE_LOST} firing")
    warnings = [line["msg"] for line in _log_lines(service, since) if line["msg"].startswith("prediction log file")]
    assert len(warnings) == events and "lost its -wal/-shm files" in warnings[0], warnings
    assert any("copied the" in w for w in warnings), warnings


def test_a_locked_database_is_logged_once_counted_in_the_backlog_and_not_ready(
        service: ServiceUnderTest, client: httpx.Client) -> None:
    wait_until(lambda: value(scrape(client), "aiops_prediction_log_queue_depth") == 0, timeout=scaled(20),
               what="an idle log")
    before = value(scrape(client), "aiops_prediction_log_write_errors_total")
    logged = len(logged_rows(service.state_dir))
    since = len(service.process.output())
    holder = sqlite3.connect(service.state_dir / "predictions.db", isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")  # a backup tool or a sqlite3 shell holding the write lock
        for _ in range(20):
            assert client.post("/predict", json={"instances": [RECORD] * 5}).status_code == 200
        wait_until(lambda: value(scrape(client), "aiops_prediction_log_write_errors_total") >= before + 3,
                   timeout=scaled(20), what="several failed commits")
        for _ in range(5):  # whichever moment Prometheus scrapes, the retried batch is in the backlog
            samples = scrape(client)
            assert value(samples, "aiops_prediction_log_queue_depth") == 100
            assert value(samples, "aiops_readiness", check="prediction_log_writable") == 0
            assert value(samples, "aiops_readiness", check="model_loaded") == 1
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert "database is locked" in ready.json()["prediction_log_error"]
        holder.execute("ROLLBACK")
    finally:
        holder.close()
    wait_until(lambda: _drained(client), timeout=scaled(20), what="the backlog written and the service ready")
    assert client.get("/readyz").status_code == 200
    assert len(logged_rows(service.state_dir)) == logged + 100
    lines = _log_lines(service, since)
    failed = [line for line in lines if line["msg"].startswith("prediction log commit failed")]
    assert len(failed) == 1, [line["msg"] for line in failed]
    assert failed[0]["level"] == "error" and failed[0]["sqlite_error"] == "SQLITE_BUSY"
    assert "database is locked" in failed[0]["msg"]
    assert any(line["msg"].startswith("prediction log commit succeeds again") for line in lines)


def test_predictions_are_refused_while_the_log_has_nowhere_to_go(service: ServiceUnderTest,
                                                                 client: httpx.Client) -> None:
    """The database file removed and its path blocked: rather than acknowledge rows that would be lost at the next
    restart, the service answers 503 naming the cause and is not ready; it recovers by itself once it can."""
    state = service.state_dir
    db = state / "predictions.db"
    kept = [client.post("/predict", json=RECORD).json()["prediction_id"] for _ in range(10)]
    wait_until(lambda: not _missing(state, kept), timeout=scaled(20), what="rows committed")
    remove_and_block(db)  # something SQLite cannot open where the file was
    try:
        wait_until(lambda: client.get("/readyz").status_code == 503, timeout=scaled(20), what="not ready")
        refused = client.post("/predict", json=RECORD)
        assert refused.status_code == 503
        assert "could not be recreated" in refused.json()["error"], refused.text
        assert "could not be recreated" in client.get("/readyz").json()["prediction_log_error"]
    finally:
        db.rmdir()
    wait_until(lambda: client.get("/readyz").status_code == 200, timeout=scaled(20), what="ready again")
    kept.append(client.post("/predict", json=RECORD).json()["prediction_id"])
    wait_until(lambda: not _missing(state, kept), timeout=scaled(20), what="every acknowledged row back")
