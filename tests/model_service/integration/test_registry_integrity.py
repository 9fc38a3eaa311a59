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
from tests.labs.drills.jobs import DrillPool
from tests.model_service.integration.registry_job import JOBS, broken_service
from tests.support.lab import Lab
from tests.support.processes import ADMIN_TOKEN, ServiceUnderTest

pytestmark = pytest.mark.integration


@pytest.fixture
def broken(lab_state: Path) -> Iterator[ServiceUnderTest]:
    with broken_service(lab_state) as svc:
        yield svc


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


@pytest.mark.pool(JOBS[0].name)
def test_a_service_without_a_loadable_model_raises_no_model_stale_ticket(drill_pool: DrillPool) -> None:
    """With a real Prometheus evaluating the lab's rules: a job of the drill pool (``registry_job.py``)."""
    print(drill_pool.outcome(JOBS[0].name))
