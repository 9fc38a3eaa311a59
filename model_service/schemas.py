"""Request and response bodies. The record model is built from the feature schema, never by hand.

Strict mode on purpose: ``"5"`` is not a number, ``true`` is not an item count and ``2.0`` is not an
integer. A client that sends those has a bug the lab wants to surface, not paper over.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from model_service.features import FEATURES, FeatureSpec

_STRICT = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)  # omitted means "look it up", not null: do not document a default


def _field(spec: FeatureSpec) -> tuple[Any, Any]:
    base = float if spec.kind == "float" else int
    annotated = Annotated[base, Field(ge=spec.minimum, le=spec.maximum,
                                      description=f"{spec.description} [{spec.unit}]")]
    kind = annotated | None if spec.nullable else annotated
    if spec.lookup:
        # Optional: the route tells "omitted" (not in model_fields_set) from an explicit null.
        return kind, Field(None, json_schema_extra=_no_default)
    return kind, ...


PredictionRecord: type[BaseModel] = create_model(
    "PredictionRecord", __config__=_STRICT, **{spec.name: _field(spec) for spec in FEATURES})


def batch_model(max_rows: int) -> type[BaseModel]:
    """The batch body, bounded by the configured batch limit."""
    return create_model(
        "PredictionBatch", __config__=_STRICT,
        instances=(Annotated[list[PredictionRecord], Field(min_length=1, max_length=max_rows)], ...))


class FeedbackRequest(BaseModel):
    model_config = _STRICT

    prediction_id: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
    actual: Annotated[float, Field(gt=0, le=24 * 60, description="Observed delivery time, minutes")]


class PredictionOut(BaseModel):
    prediction_id: str
    predicted_minutes: float
    explanation: dict[str, float] | None = None


class SinglePredictionResponse(PredictionOut):
    model_version: str


class BatchPredictionResponse(BaseModel):
    model_version: str
    predictions: list[PredictionOut]


class FeedbackResponse(BaseModel):
    prediction_id: str
    model_version: str
    absolute_error_minutes: float


class ErrorItem(BaseModel):
    field: str = Field(description="Dotted path of the offending input, e.g. instances[3].distance_km")
    rule: str = Field(description="The rule that failed, e.g. less_than_equal, missing, extra_forbidden")
    message: str


class ErrorResponse(BaseModel):
    error: str = Field(description="One-line summary naming the first offending field")
    details: list[ErrorItem] = []


class DeployRequest(BaseModel):
    model_config = _STRICT
    version: Annotated[str, Field(pattern=r"^v[0-9]+$", max_length=12)]


class ConfigChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    value: Any
    reason: Annotated[str, Field(max_length=500)] = ""


class ModelUpload(BaseModel):
    """A trained version pushed into the service's registry (``aiops-lab model push``, the drill engine).

    Three parts of a registry version, as one JSON document: the skops artifact (base64), its model card and
    the reference sample the drift monitor compares live traffic with. Not registered unless all three
    check out; the artifact passes the same type allow-list as the registry's own files.
    """

    model_config = ConfigDict(extra="forbid", strict=True)
    card: dict[str, Any] = Field(description="The model card (model_service.model_card.ModelCard); "
                                             "its version is assigned by the registry")
    model_skops_b64: Annotated[str, Field(min_length=4, max_length=400_000,
                                          description="The estimator as a skops file, base64")]
    reference_csv: Annotated[str, Field(min_length=10, max_length=600_000,
                                        description="Reference sample: CSV with the features and the target")]


# Bodies the routes validate from raw bytes; app.py publishes them in the OpenAPI components.
OPENAPI_BODY_MODELS: tuple[type[BaseModel], ...] = (PredictionRecord, FeedbackRequest, DeployRequest, ConfigChange,
                                                    ModelUpload)
