"""A corrupt model artifact under the real service: reported as corrupt, never as "no model"; no false alerts.

Issue 14, item 5: with v1's artifact damaged the service answered 503 "no model is active" although v1 was
active, ``model list`` showed v1 as fine, and a ModelStale ticket said the model was trained 20,789 days ago
(the created-timestamp gauge of a service without a model is 0, and 0 was read as a time).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from aiops_core import http as lab_http
from aiops_core.polling import wait_until
from tests.model_service.integration.launcher import launch
from tests.monitoring import catalog
from tests.support.lab import Lab
from tests.support.processes import ADMIN_TOKEN, ServiceUnderTest
from tests.support.prometheus import TestPrometheus, running_prometheus
from tests.support.speed import scaled

pytestmark = pytest.mark.integration

# What the ModelStale rule read before the fix: any service's timestamp gauge, a 0 included.
AGE_WITHOUT_GUARD = 'time() - aiops_model_created_timestamp_seconds{job="model-service"} > 30 * 24 * 3600'


@pytest.fixture
def broken(lab_state: Path) -> Iterator[ServiceUnderTest]:
    """The service started on a registry whose active v1 has a truncated artifact (a copy cut short)."""
    artifact = lab_state / "models" / "v1" / "model.skops"
    artifact.write_bytes(artifact.read_bytes()[:300])
    svc = launch(lab_state, wait_ready=False)
    try:
        yield svc
    finally:
        svc.process.stop()


def _rule(prom: TestPrometheus, name: str) -> dict:
    return next(r for g in prom.rule_groups() for r in g["rules"] if r.get("name") == name)


def test_a_corrupt_artifact_is_reported_as_corrupt_with_its_file(broken: ServiceUnderTest, lab_state: Path) -> None:
    artifact = lab_state / "models" / "v1" / "model.skops"
    with broken.client() as client:
        ready = client.get("/readyz")
        assert ready.status_code == 503
        hint = ready.json()["hint"]
        assert f"model version v1 cannot be loaded ({artifact} is corrupt" in hint, hint
        assert "no model is active" not in hint
        assert f"{artifact} is corrupt" in client.get("/model").json()["error"]
        models = client.get("/admin/models", headers=broken.admin_headers).json()
    assert models["active"] == "v1"
    problems = {v["version"]: v["problem"] for v in models["versions"]}
    assert problems["v2"] is None and f"{artifact} is corrupt (not a readable zip archive" in problems["v1"]

    lab = Lab.create(lab_state, AIOPS_MODEL_SERVICE_URL=broken.url, AIOPS_ADMIN_TOKEN=ADMIN_TOKEN)
    listed = lab.run("model", "list")
    assert listed.exit_code == 0, listed.output
    v1 = next(line for line in listed.output.splitlines() if line.startswith("│") and " v1 " in line)
    assert v1.split("│")[1].strip() == "*" and v1.split("│")[3].strip() == "corrupt", listed.output
    assert f"✗ v1 (active): {artifact} is corrupt" in listed.text, listed.output
    rollback = lab.run("model", "rollback")
    assert rollback.exit_code == 5 and "v1 cannot be served" in rollback.text, rollback.output

    # An intact version, loaded at once by the not-ready service. v2 is much worse on the golden set, but the
    # promotion gate has no working model to protect while v1 cannot be served.
    deployed = lab.run("model", "deploy", "v2")
    assert deployed.exit_code == 0, deployed.output
    assert lab_http.get(f"{broken.url}/readyz", timeout=10).status_code == 200


def test_a_service_without_a_loadable_model_raises_no_model_stale_ticket(broken: ServiceUnderTest,
                                                                        tmp_path: Path) -> None:
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
