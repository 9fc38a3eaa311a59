"""``POST /admin/model/upload``: pushing a trained version into the service's own registry.

The compose lab's registry is a Docker volume; the drill engine and a learner on the host push models this
way. An upload is untrusted input: each broken part is refused with a 422 naming it, and nothing is
registered unless every part checks out.
"""

from __future__ import annotations

import base64
import copy
import io
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import skops.io as sio
from sklearn.linear_model import LinearRegression
from sklearn.tree import DecisionTreeRegressor

from aiops_core import http as lab_http
from model_service import training
from model_service.model_upload import encode
from tests.model_service.integration.launcher import SCHEMA_VALID_BAD_UPLOAD
from tests.support.processes import ServiceUnderTest
from tests.support.speed import scaled

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def candidate() -> dict:
    return encode(training.train(rows=2000, seed=11, corruption="labels-shuffled", description="release 7.1"))


@pytest.fixture(scope="module")
def admin(api: ServiceUnderTest) -> Iterator[httpx.Client]:
    with lab_http.new_client(base_url=api.url, timeout=30.0, headers={**api.admin_headers, "X-Actor": "ci"}) as c:
        yield c


def _versions(admin: httpx.Client) -> list[str]:
    return [v["version"] for v in admin.get("/admin/models").json()["versions"]]


def test_the_service_keeps_answering_while_an_upload_imports_scikit_learn(api: ServiceUnderTest,
                                                                         admin: httpx.Client) -> None:
    """An upload is blocking work (the service's first one imports scikit-learn, pandas and skops: seconds of
    CPU); done on the event loop it stalled /predict and /metrics scrapes until it ended, and schemathesis
    timed out on it in CI. Runs first in the module, so the import is cold. /healthz is polled throughout:
    on a blocked loop one of its answers waits for the whole upload."""
    done = threading.Event()
    result: dict[str, object] = {}

    def upload() -> None:
        started = time.perf_counter()
        try:
            result["resp"] = admin.post("/admin/model/upload",
                                        json=SCHEMA_VALID_BAD_UPLOAD,
                                        timeout=scaled(120))
        finally:
            result["took"] = time.perf_counter() - started
            done.set()

    worker = threading.Thread(target=upload)
    waits: list[float] = []
    with api.client() as probe:
        worker.start()
        while not done.is_set():
            sent = time.perf_counter()
            assert probe.get("/healthz", timeout=scaled(120)).status_code == 200
            waits.append(time.perf_counter() - sent)  # sent while the upload ran, however long it waited
            time.sleep(0.02)
    worker.join()
    resp = result["resp"]
    assert isinstance(resp, httpx.Response) and resp.status_code == 422, resp
    took = float(result["took"])  # type: ignore[arg-type]
    assert took > 0.3, f"the upload took {took:.2f}s: scikit-learn was already imported, the probe proves nothing"
    assert waits and max(waits) < took / 2, (f"/healthz waited up to {max(waits, default=0):.2f}s while the "
                                             f"upload took {took:.2f}s: the upload blocks the event loop")


def test_an_upload_is_registered_inactive_and_deployable(api: ServiceUnderTest, admin: httpx.Client,
                                                         candidate: dict) -> None:
    before = _versions(admin)
    active = admin.get("/admin/models").json()["active"]
    created = admin.post("/admin/model/upload", json=candidate)
    assert created.status_code == 201, created.text
    version = created.json()["version"]
    assert version not in before and _versions(admin) == [*before, version]
    assert admin.get("/admin/models").json()["active"] == active  # registered, not deployed
    stored = Path(api.state_dir) / "models" / version
    assert (stored / "model.skops").is_file() and (stored / "reference.csv").is_file()
    deployed = admin.post("/admin/model/deploy", json={"version": version}, params={"force": "true"})  # a bad release
    assert deployed.status_code == 200, deployed.text
    try:
        record = {"distance_km": 4.0, "items_count": 2, "is_peak_hour": 0, "traffic_index": 3.0,
                  "courier_experience_months": 10.0}
        served = lab_http.post(api.url + "/predict", json=record, timeout=10).json()
        assert served["model_version"] == version
        # The served estimator is the uploaded one, coefficient for coefficient.
        coefs = sio.loads(base64.b64decode(candidate["model_skops_b64"]),
                          trusted=sio.get_untrusted_types(data=base64.b64decode(candidate["model_skops_b64"])))
        expected = float(coefs.predict([[4.0, 2, 0, 3.0, 10.0]])[0])
        assert served["predicted_minutes"] == pytest.approx(expected, abs=0.01)
    finally:
        assert admin.post("/admin/model/deploy", json={"version": active}).status_code == 200


def _tree_artifact() -> str:
    est = DecisionTreeRegressor().fit([[0, 1, 0, 1, 1], [1, 2, 1, 2, 2]], [1.0, 2.0])
    return base64.b64encode(sio.dumps(est)).decode()


def _wrong_width() -> str:
    return base64.b64encode(sio.dumps(LinearRegression().fit([[0, 1], [1, 0], [2, 2]], [1.0, 2.0, 3.0]))).decode()


def _broken(candidate: dict, part: str) -> dict:
    body = copy.deepcopy(candidate)
    if part == "not-base64":
        body["model_skops_b64"] = "%%%not base64%%%"
    elif part == "not-skops":
        body["model_skops_b64"] = base64.b64encode(b"PK\x03\x04 this is no zip").decode()
    elif part == "untrusted-type":
        body["model_skops_b64"] = _tree_artifact()
    elif part == "wrong-width":
        body["model_skops_b64"] = _wrong_width()
    elif part == "card-field":
        body["card"]["training_rows"] = "many"
    elif part == "card-features":
        body["card"]["feature_schema"] = body["card"]["feature_schema"][:-1]
    elif part == "csv-columns":
        frame_csv = io.StringIO(candidate["reference_csv"]).read().splitlines()
        body["reference_csv"] = "\n".join(line.rsplit(",", 1)[0] for line in frame_csv)
    elif part == "csv-rows":
        body["reference_csv"] = "\n".join(candidate["reference_csv"].splitlines()[:5])
    elif part == "extra-field":
        body["pickle"] = "gASVAAAAAA=="
    elif part == "missing-card":
        del body["card"]
    return body


@pytest.mark.parametrize(("part", "field", "words"), [
    ("not-base64", "model_skops_b64", "base64"),
    ("not-skops", "model_skops_b64", "skops"),
    ("untrusted-type", "model_skops_b64", "not allowed"),
    ("wrong-width", "model_skops_b64", "5 features"),
    ("card-field", "card.training_rows", ""),
    ("card-features", "card.feature_schema", "describes features"),
    ("csv-columns", "reference_csv", "lacks columns"),
    ("csv-rows", "reference_csv", "at least 50"),
    ("extra-field", "pickle", ""),
    ("missing-card", "card", ""),
])
def test_a_broken_upload_is_refused_naming_the_part_and_registers_nothing(
        admin: httpx.Client, candidate: dict, part: str, field: str, words: str) -> None:
    before = _versions(admin)
    resp = admin.post("/admin/model/upload", json=_broken(candidate, part))
    assert resp.status_code == 422, resp.text
    error = resp.json()["error"]
    assert error.startswith(field), error
    assert words in error
    assert _versions(admin) == before


def test_upload_needs_the_admin_token(api: ServiceUnderTest, candidate: dict) -> None:
    resp = lab_http.post(api.url + "/admin/model/upload", json=candidate, timeout=10)
    assert resp.status_code == 401
