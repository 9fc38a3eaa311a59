"""The ModelStale rule on a service whose active model cannot be loaded: no false ticket (issue 14, item 5).

Its created-timestamp gauge is 0 then, and the old rule read 0 as "trained in 1970". A real Prometheus with
the lab's rules scrapes the real service and evaluates the rule three times. A job of the drill pool, beside
its heavy jobs: it mostly waits for scrapes and evaluations (13 s, 2 CPU-s alone) on processes of its own.
``test_registry_integrity.py`` reports it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from aiops_core.polling import wait_until
from tests.labs.drills.lab import Lab, borrowed_dir
from tests.labs.drills.pool import Job
from tests.model_service.integration.launcher import launch
from tests.monitoring import catalog
from tests.support.processes import ServiceUnderTest
from tests.support.prometheus import TestPrometheus, running_prometheus
from tests.support.speed import scaled

# What the ModelStale rule read before the fix: any service's timestamp gauge, a 0 included.
AGE_WITHOUT_GUARD = 'time() - aiops_model_created_timestamp_seconds{job="model-service"} > 30 * 24 * 3600'


@contextlib.contextmanager
def broken_service(state: Path) -> Iterator[ServiceUnderTest]:
    """The service started on a registry whose active v1 has a truncated artifact (a copy cut short)."""
    artifact = state / "models" / "v1" / "model.skops"
    artifact.write_bytes(artifact.read_bytes()[:300])
    svc = launch(state, wait_ready=False)
    try:
        yield svc
    finally:
        svc.process.stop()


def _rule(prom: TestPrometheus, name: str) -> dict:
    return next(r for g in prom.rule_groups() for r in g["rules"] if r.get("name") == name)


def no_model_stale_ticket(lab: Lab) -> str:
    """Its own service and Prometheus, in a directory beside the pool lab's state; the lab is not used."""
    work = borrowed_dir(lab, "registry-integrity")
    with broken_service(work / "state") as broken:
        return _no_ticket(broken, work / "prometheus")


def _no_ticket(broken: ServiceUnderTest, tmp_path: Path) -> str:
    [stale] = [r for r in catalog.alerts() if r.name == "ModelStale"]
    with running_prometheus(tmp_path, {"model-service": f"127.0.0.1:{broken.port}"}) as prom:
        scraped = prom.vector('aiops_model_created_timestamp_seconds{job="model-service"}')
        assert [value for _, value in scraped] == [0.0]  # the gauge the old rule read as "trained in 1970"
        assert prom.vector(AGE_WITHOUT_GUARD), "the unguarded age would have opened the false ticket"
        first_scrape = float(prom.vector('timestamp(up{job="model-service"})')[0][1])
        # Rules are evaluated every 2 s in lab mode: three intervals after the first scrape, ModelStale has
        # been evaluated on the scraped 0 at least twice (the unguarded rule would be pending by now).
        wait_until(lambda: (prom.value("time()") or 0) > first_scrape + 6, timeout=scaled(30), interval=0.5,
                   what="three rule evaluations after the first scrape")
        rule = _rule(prom, "ModelStale")
        assert rule["health"] == "ok" and rule["state"] == "inactive", rule
        assert prom.vector(stale.expr) == []
        assert not [a for a in prom.alerts() if a["labels"]["alertname"] == "ModelStale"]
    return "ModelStale inactive after three evaluations of the scraped 0"


JOBS = [Job("model service: no ModelStale ticket without a loadable model", no_model_stale_ticket, cost_s=20,
            beside_heavy=True, uses_lab=False)]
