"""Every kind of bad input gets a 4xx whose message names the offending field -- never a 500.

One table, one real service. Each row: what is sent, the status expected, and the field the message must
name (``detail`` is the exact ``details[0].field`` path when the error comes from validation).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from model_service.features import FEATURES
from tests.model_service.integration.scrape import scrape, value
from tests.support.processes import ADMIN_TOKEN, ServiceUnderTest

pytestmark = pytest.mark.integration

RECORD = {"distance_km": 3.5, "items_count": 2, "is_peak_hour": 1, "traffic_index": 4.0,
          "courier_experience_months": 12.0}
LIMIT = 1_048_576  # settings.max_body_bytes default


def raw(record: dict[str, Any], **literals: str) -> bytes:
    """A record as JSON with some values replaced by literal tokens (NaN, Infinity) json.dumps won't write."""
    body = json.dumps({k: f"@{k}@" if k in literals else v for k, v in record.items()})
    for k, token in literals.items():
        body = body.replace(f'"@{k}@"', token)
    return body.encode()


def without(key: str) -> dict[str, Any]:
    return {k: v for k, v in RECORD.items() if k != key}


def chunked(total: int) -> Iterator[bytes]:
    """A body with no Content-Length: httpx sends a generator with Transfer-Encoding: chunked."""
    sent = 0
    while sent < total:
        yield b" " * 65_536
        sent += 65_536


@dataclass
class Case:
    id: str
    status: int
    names: str  # the error message must name this
    detail: str | None = None  # exact details[0].field
    method: str = "POST"
    path: str = "/predict"
    body: Any = None  # JSON-encoded by httpx
    content: Any = None  # raw bytes / generator
    headers: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)


def _range_cases() -> list[Case]:
    cases = []
    for spec in FEATURES:
        cast = int if spec.kind == "int" else float
        for side, bad in (("below", spec.minimum - 1), ("above", spec.maximum + 1)):
            cases.append(Case(f"{spec.name}-{side}-range", 422, spec.name, spec.name,
                              body={**RECORD, spec.name: cast(bad)}))
    return cases


BATCH_ROW_3_BAD = {"instances": [RECORD, RECORD, RECORD, {**RECORD, "distance_km": "far"}, RECORD]}

CASES: list[Case] = [
    Case("string-for-number", 422, "distance_km", "distance_km", body={**RECORD, "distance_km": "3.5"}),
    Case("string-for-int", 422, "items_count", "items_count", body={**RECORD, "items_count": "2"}),
    Case("word-for-nullable-number", 422, "traffic_index", "traffic_index", body={**RECORD, "traffic_index": "high"}),
    Case("bool-for-int", 422, "items_count", "items_count", body={**RECORD, "items_count": True}),
    Case("bool-for-flag", 422, "is_peak_hour", "is_peak_hour", body={**RECORD, "is_peak_hour": False}),
    Case("float-for-int", 422, "items_count", "items_count", body={**RECORD, "items_count": 2.5}),
    Case("integral-float-for-int", 422, "items_count", "items_count", body={**RECORD, "items_count": 2.0}),
    Case("object-for-number", 422, "courier_experience_months", "courier_experience_months",
         body={**RECORD, "courier_experience_months": {"months": 3}}),
    Case("NaN", 422, "distance_km", "distance_km", content=raw(RECORD, distance_km="NaN")),
    Case("Infinity", 422, "traffic_index", "traffic_index", content=raw(RECORD, traffic_index="Infinity")),
    Case("-Infinity", 422, "courier_experience_months", "courier_experience_months",
         content=raw(RECORD, courier_experience_months="-Infinity")),
    Case("overflowing-number", 422, "distance_km", "distance_km", content=raw(RECORD, distance_km="1e400")),
    Case("negative-distance", 422, "distance_km", "distance_km", body={**RECORD, "distance_km": -1}),
    *_range_cases(),
    Case("missing-field", 422, "courier_experience_months", "courier_experience_months",
         body=without("courier_experience_months")),
    # Omitting traffic_index is not an error: the service looks it up (tests/model_service/integration/
    # test_feature_lookup.py). A wrong value still is (word-for-nullable-number, Infinity, range cases).
    Case("extra-field", 422, "tip_eur", "tip_eur", body={**RECORD, "tip_eur": 2}),
    Case("null-for-non-nullable", 422, "items_count", "items_count", body={**RECORD, "items_count": None}),
    Case("empty-body", 422, "body", "body", content=b""),
    Case("invalid-json", 422, "body", "body", content=b'{"distance_km": 3.5,'),
    Case("not-utf8", 422, "body", "body", content=b"\xff\xfe\x00garbage"),
    Case("json-array", 422, "body", "body", body=[RECORD]),
    Case("json-scalar", 422, "body", "body", body=42),
    Case("json-null", 422, "body", "body", content=b"null"),
    Case("empty-object", 422, "distance_km", "distance_km", body={}),
    Case("empty-instances", 422, "instances", "instances", body={"instances": []}),
    Case("instances-not-a-list", 422, "instances", "instances", body={"instances": RECORD}),
    Case("1001-instances", 422, "instances", "instances", body={"instances": [RECORD] * 1001}),
    Case("bad-row-in-batch", 422, "instances[3].distance_km", "instances[3].distance_km", body=BATCH_ROW_3_BAD),
    Case("batch-with-extra-key", 422, "model", "model", body={"instances": [RECORD], "model": "v2"}),
    Case("oversized-content-length", 413, "body", "body", content=b'{"instances": [' + b" " * (LIMIT + 10)),
    Case("oversized-chunked", 413, "body", "body", content=chunked(LIMIT + 200_000)),
    # A body labelled as anything but JSON is refused before it is parsed (issue 14, item 9b): 415 naming
    # the expected type, even when the bytes happen to be valid JSON.
    Case("form-encoded", 415, "application/json", "content-type", content=b"distance_km=3.5&items_count=2",
         headers={"Content-Type": "application/x-www-form-urlencoded"}),
    Case("xml", 415, "application/json", "content-type", content=b"<record><distance_km>3</distance_km></record>",
         headers={"Content-Type": "application/xml"}),
    Case("json-labelled-text-plain", 415, "application/json", "content-type", content=json.dumps(RECORD).encode(),
         headers={"Content-Type": "text/plain"}),
    Case("batch-labelled-text-plain", 415, "text/plain", "content-type",
         content=json.dumps({"instances": [RECORD]}).encode(), headers={"Content-Type": "text/plain; charset=utf-8"}),
    Case("feedback-labelled-text-plain", 415, "application/json", "content-type", path="/feedback",
         content=b'{"prediction_id": "p1", "actual": 30}', headers={"Content-Type": "text/plain"}),
    Case("admin-config-labelled-text-plain", 415, "application/json", "content-type", method="PUT",
         path="/admin/config/extra_latency_ms", content=b'{"value": 0, "reason": "content-type test"}',
         headers={"Content-Type": "text/plain", "Authorization": f"Bearer {ADMIN_TOKEN}"}),
    Case("explain-maybe", 422, "explain", "query.explain", body=RECORD, params={"explain": "maybe"}),
    Case("feedback-missing-actual", 422, "actual", "actual", path="/feedback", body={"prediction_id": "p1"}),
    Case("feedback-zero-actual", 422, "actual", "actual", path="/feedback", body={"prediction_id": "p1", "actual": 0}),
    Case("feedback-actual-over-a-day", 422, "actual", "actual", path="/feedback",
         body={"prediction_id": "p1", "actual": 1441}),
    Case("feedback-string-actual", 422, "actual", "actual", path="/feedback",
         body={"prediction_id": "p1", "actual": "30"}),
    Case("feedback-id-with-space", 422, "prediction_id", "prediction_id", path="/feedback",
         body={"prediction_id": "p 1", "actual": 30}),
    Case("feedback-id-too-long", 422, "prediction_id", "prediction_id", path="/feedback",
         body={"prediction_id": "p" * 65, "actual": 30}),
    Case("feedback-id-number", 422, "prediction_id", "prediction_id", path="/feedback",
         body={"prediction_id": 17, "actual": 30}),
    Case("feedback-extra-field", 422, "model_version", "model_version", path="/feedback",
         body={"prediction_id": "p1", "actual": 30, "model_version": "v1"}),
    Case("feedback-invalid-json", 422, "body", "body", path="/feedback", content=b"{prediction_id: p1}"),
    Case("feedback-unknown-id", 404, "prediction_id", None, path="/feedback",
         body={"prediction_id": "p-unknown-1", "actual": 30}),
    Case("unknown-route", 404, "/predictions", None, path="/predictions", body=RECORD),
    Case("wrong-method-get-predict", 405, "/predict", None, method="GET"),
    Case("wrong-method-put-feedback", 405, "/feedback", None, method="PUT", path="/feedback", body={}),
    Case("admin-wrong-method", 405, "/admin/model/rollback", None, method="GET", path="/admin/model/rollback"),
]


@pytest.fixture(scope="module")
def client(api: ServiceUnderTest) -> Iterator[httpx.Client]:
    with api.client() as c:
        yield c


def test_table_is_big_enough() -> None:
    assert len(CASES) >= 20
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_a_4xx_naming_the_field(client: httpx.Client, case: Case) -> None:
    kwargs: dict[str, Any] = {"headers": case.headers, "params": case.params}
    if case.content is not None:
        kwargs["content"] = case.content
    elif case.body is not None:
        kwargs["json"] = case.body
    resp = client.request(case.method, case.path, **kwargs)
    assert resp.status_code == case.status, resp.text
    assert resp.headers["content-type"].startswith("application/json")
    body = resp.json()
    assert case.names in body["error"], body
    assert "Traceback" not in resp.text
    if case.detail is not None:
        assert body["details"][0]["field"] == case.detail, body
        assert body["details"][0]["rule"] and body["details"][0]["message"]


@pytest.mark.parametrize("content_type", [None, "application/json", "application/json; charset=utf-8",
                                          "Application/JSON", "application/vnd.delivery+json"])
def test_json_bodies_are_accepted_with_any_json_content_type_or_none(client: httpx.Client,
                                                                     content_type: str | None) -> None:
    """The 415 refuses mislabelled bodies only: every JSON media type passes, and so does no label at all
    (FastAPI reads an unlabelled body as JSON, and lab clients posting raw bytes send none)."""
    headers = {} if content_type is None else {"Content-Type": content_type}
    request = client.build_request("POST", "/predict", content=json.dumps(RECORD).encode(), headers=headers)
    assert ("content-type" in request.headers) == (content_type is not None)  # httpx adds none for bytes
    resp = client.send(request)
    assert resp.status_code == 200, resp.text


def test_validation_errors_are_counted_by_field(client: httpx.Client) -> None:
    before = scrape(client)
    for spec in FEATURES:
        assert client.post("/predict", json={**RECORD, spec.name: "x"}).status_code == 422
    assert client.post("/predict", json={**RECORD, "tip_eur": 1}).status_code == 422
    assert client.post("/predict", content=b"[").status_code == 422
    assert client.post("/predict", content=b" " * (LIMIT + 1)).status_code == 413
    after = scrape(client)
    for spec in FEATURES:
        assert value(after, "aiops_validation_errors_total", field=spec.name) == \
            value(before, "aiops_validation_errors_total", field=spec.name) + 1, spec.name
    assert value(after, "aiops_validation_errors_total", field="other") == \
        value(before, "aiops_validation_errors_total", field="other") + 1  # unbounded names share one label
    assert value(after, "aiops_validation_errors_total", field="body") == \
        value(before, "aiops_validation_errors_total", field="body") + 2
    assert value(after, "aiops_http_requests_total", route="/predict", method="POST", status="413") == \
        value(before, "aiops_http_requests_total", route="/predict", method="POST", status="413") + 1
    labels = {dict(k[1]).get("field") for k in after if k[0] == "aiops_validation_errors_total"}
    assert "tip_eur" not in labels
