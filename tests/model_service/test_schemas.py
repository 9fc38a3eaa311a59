"""Request models are strict and built from the feature schema; the OpenAPI document is self-contained."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from model_service.app import create_app
from model_service.errors import from_validation
from model_service.features import FEATURE_NAMES, FEATURES
from model_service.schemas import OPENAPI_BODY_MODELS, FeedbackRequest, PredictionRecord, batch_model
from model_service.settings import Settings

GOOD = {"distance_km": 3.5, "items_count": 2, "is_peak_hour": 1, "traffic_index": None,
        "courier_experience_months": 12}


def _errors(model: Any, body: Any) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as info:
        model.model_validate_json(json.dumps(body))
    err = from_validation(info.value)
    return [(d["field"], d["rule"]) for d in err.details]


def test_record_fields_follow_the_feature_schema() -> None:
    assert tuple(PredictionRecord.model_fields) == FEATURE_NAMES
    record = PredictionRecord.model_validate_json(json.dumps(GOOD))
    assert list(record.__dict__) == list(FEATURE_NAMES)  # the predictor relies on this order


@pytest.mark.parametrize(("patch", "expected"), [
    ({"distance_km": "3.5"}, ("distance_km", "float_type")),
    ({"items_count": True}, ("items_count", "int_type")),
    ({"items_count": 2.0}, ("items_count", "int_type")),
    ({"is_peak_hour": 2}, ("is_peak_hour", "less_than_equal")),
    ({"distance_km": None}, ("distance_km", "float_type")),
    ({"tip_eur": 1}, ("tip_eur", "extra_forbidden")),
])
def test_record_is_strict(patch: dict[str, Any], expected: tuple[str, str]) -> None:
    assert _errors(PredictionRecord, {**GOOD, **patch}) == [expected]


@pytest.mark.parametrize("spec", FEATURES, ids=lambda s: s.name)
def test_physical_bounds_are_enforced(spec: Any) -> None:
    for value, rule in ((spec.minimum - 1, "greater_than_equal"), (spec.maximum + 1, "less_than_equal")):
        value = int(value) if spec.kind == "int" else float(value)
        assert _errors(PredictionRecord, {**GOOD, spec.name: value}) == [(spec.name, rule)]
    for value in (spec.minimum, spec.maximum):
        PredictionRecord.model_validate({**GOOD, spec.name: int(value) if spec.kind == "int" else float(value)})


def test_batch_errors_name_the_row() -> None:
    rows = [GOOD] * 5
    rows[3] = {**GOOD, "distance_km": -1.0}
    assert _errors(batch_model(10), {"instances": rows}) == [("instances[3].distance_km", "greater_than_equal")]
    assert _errors(batch_model(10), {"instances": [GOOD] * 11}) == [("instances", "too_long")]
    assert _errors(batch_model(10), {"instances": []}) == [("instances", "too_short")]


def test_error_summary_names_the_first_field_and_counts_the_rest() -> None:
    with pytest.raises(ValidationError) as info:
        PredictionRecord.model_validate_json('{"distance_km": -1, "items_count": 0}')
    err = from_validation(info.value)
    assert err.status == 422
    assert err.message.startswith("distance_km: ")
    # items_count range + two missing fields (traffic_index may be omitted: the service looks it up)
    assert err.message.endswith("(and 3 more)")


def test_feedback_request() -> None:
    FeedbackRequest.model_validate_json('{"prediction_id": "pabc-1f", "actual": 31.5}')
    assert _errors(FeedbackRequest, {"prediction_id": "a b", "actual": 0}) == [
        ("prediction_id", "string_pattern_mismatch"), ("actual", "greater_than")]


def test_openapi_references_all_resolve() -> None:
    """Routes that validate raw bytes reference body models by $ref; each must exist in the components."""
    schema = create_app(Settings(admin_token=None)).openapi()
    components = schema["components"]["schemas"]
    refs = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                refs.add(node["$ref"].rsplit("/", 1)[-1])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    assert {m.__name__ for m in OPENAPI_BODY_MODELS} <= refs
    assert refs <= set(components), f"unresolvable: {sorted(refs - set(components))}"
    assert set(components["PredictionRecord"]["required"]) == {f.name for f in FEATURES if f.lookup is None}


@pytest.mark.parametrize(("model", "body", "allowed"), [
    (PredictionRecord, {**GOOD, "tip_eur": 1}, "distance_km, items_count"),
    (batch_model(5), {"instances": [{**GOOD, "tip_eur": 1}]}, "distance_km, items_count"),
    (batch_model(5), {"instances": [GOOD], "model": "v2"}, "allowed fields are: instances"),
    (FeedbackRequest, {"prediction_id": "p1", "actual": 3, "model_version": "v1"}, "prediction_id, actual"),
])
def test_unknown_field_lists_the_fields_of_that_body(model: Any, body: Any, allowed: str) -> None:
    with pytest.raises(ValidationError) as info:
        model.model_validate_json(json.dumps(body))
    [detail] = from_validation(info.value).details
    assert detail["rule"] == "extra_forbidden"
    assert allowed in detail["message"]


def test_openapi_documents_the_predict_contract() -> None:
    """/predict validates raw bytes and parses ``explain`` by hand; the schema must still say so."""
    op = create_app(Settings(admin_token=None, max_batch_rows=50)).openapi()["paths"]["/predict"]["post"]
    assert [(p["name"], p["in"], p["schema"]["type"]) for p in op["parameters"]] == [("explain", "query", "boolean")]
    record, batch = op["requestBody"]["content"]["application/json"]["schema"]["oneOf"]
    assert record == {"$ref": "#/components/schemas/PredictionRecord"}
    assert batch["properties"]["instances"]["maxItems"] == 50  # the configured limit, not a hard-coded one
    assert {"413", "422", "503"} <= set(op["responses"])
