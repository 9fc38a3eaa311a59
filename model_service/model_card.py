"""The model card: what a registered model version is, how it was made and how good it was."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class FeatureRange(BaseModel):
    """Training-data range of one feature; the service imputes ``median`` for a missing value."""

    min: float = Field(description="Smallest training value, in the feature's unit")
    max: float = Field(description="Largest training value; live values above it count as out of range")
    median: float = Field(description="Imputed when a request sends null")


class EvalMetrics(BaseModel):
    mae: float = Field(description="Mean absolute error, minutes")
    rmse: float = Field(description="Root mean squared error, minutes")
    r2: float = Field(description="Coefficient of determination")
    rows: int


class ReferenceSample(BaseModel):
    """Pointer to the training-data sample the drift monitor compares live traffic with."""

    path: str = Field(description="File name inside the version directory (CSV)")
    rows: int


class ModelCard(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: str
    created_at: datetime
    algorithm: str = "sklearn.linear_model.LinearRegression"
    description: str = ""
    training_data_hash: str = Field(description="sha256 of the training frame")
    training_rows: int
    data_scenario: str = "normal"
    corruption: str | None = Field(default=None, description="Set on deliberately bad candidates")
    seed: int
    feature_schema: list[dict[str, str | float | bool]]
    feature_ranges: dict[str, FeatureRange]
    coefficients: dict[str, float]
    intercept: float
    metrics: dict[str, EvalMetrics] = Field(description="'holdout' and 'golden' evaluations")
    reference_sample: ReferenceSample
    artifact_sha256: str | None = Field(
        default=None, description="sha256 of model.skops, set by the registry when it stores the version: a "
        "different digest means the file changed since (versions registered before it have none)")
