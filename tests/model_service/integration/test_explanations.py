"""Explanations are CPU-heavy; they must not freeze the service (health checks, the admin API)."""

from __future__ import annotations

import threading
import time

import pytest

from aiops_core import http as lab_http
from model_service import generator
from tests.support.processes import ServiceUnderTest

pytestmark = pytest.mark.integration


def test_health_and_admin_answer_while_a_large_explained_batch_is_computed(service: ServiceUnderTest) -> None:
    rows = generator.records(generator.generate(1000, seed=5))
    done: dict[str, float] = {}

    def explained_batch() -> None:
        resp = lab_http.post(service.url + "/predict?explain=true", json={"instances": rows}, timeout=120)
        assert resp.status_code == 200
        assert len(resp.json()["predictions"][999]["explanation"]) == 5
        done["predict"] = time.monotonic()

    worker = threading.Thread(target=explained_batch)
    worker.start()
    time.sleep(0.3)  # let the batch reach the explainer; the ordering below is what is asserted
    health = lab_http.get(service.url + "/healthz", timeout=60)
    flags = lab_http.get(service.url + "/admin/config", headers=service.admin_headers, timeout=60)
    answered = time.monotonic()
    worker.join(120)
    assert health.status_code == 200 and flags.status_code == 200
    assert "predict" in done, "the explained batch did not complete"
    assert answered < done["predict"], "health and admin waited for the explanations to finish"
