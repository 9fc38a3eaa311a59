"""What one monitoring run found, as a plain record: the JSON report's summary, the index row, the gauges.

A value of ``None`` means "no verdict" (too few rows, feature entirely missing, no feedback yet) and is
exported as NaN, which no alert threshold matches -- the monitor never turns missing data into an alarm.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Outcome = Literal["success", "insufficient_data", "failure"]


class FeatureResult(BaseModel):
    name: str
    method: str
    threshold: float
    score: float | None = Field(None, description="Drift score; None when the feature was not tested")
    drifted: bool | None = None
    note: str = Field("", description="Why the feature was not tested, if it was not")
    missing_share: float | None = None
    zero_share: float | None = None
    out_of_range_share: float | None = Field(None, description="Share of rows outside the training range")
    constant: bool | None = Field(None, description="Exactly one distinct non-null value in the window")


class DatasetDrift(BaseModel):
    share: float | None = None
    drifted: bool | None = None
    threshold: float
    tested_features: int = 0


class PredictionDrift(BaseModel):
    method: str
    threshold: float
    score: float | None = None
    drifted: bool | None = None


class Quality(BaseModel):
    """Errors of predictions that received feedback, in seconds (predicted - actual for the mean error)."""

    rows: int
    mae_seconds: float | None = None
    rmse_seconds: float | None = None
    mean_error_seconds: float | None = None
    training_mae_seconds: float | None = Field(None, description="Holdout MAE from the model card, to compare")


class WindowInfo(BaseModel):
    since: float | None = None
    until: float | None = None
    rows: int = 0
    other_versions: dict[str, int] = Field(default_factory=dict,
                                           description="Rows of other versions in the window (not compared)")


class RunSummary(BaseModel):
    run_id: str
    started_at: float
    duration_seconds: float = 0.0
    outcome: Outcome
    reason: str = ""
    model_version: str | None = None
    reference_rows: int = 0
    window: WindowInfo = Field(default_factory=WindowInfo)
    dataset: DatasetDrift | None = None
    prediction: PredictionDrift | None = None
    features: list[FeatureResult] = Field(default_factory=list)
    quality: Quality | None = None
    html_file: str | None = Field(None, description="File name of the Evidently HTML report in the reports dir")
    json_file: str | None = Field(None, description="File name of this JSON report")

    def headline(self) -> str:
        """One line for logs and the CLI."""
        if self.outcome != "success":
            return f"{self.outcome}: {self.reason}"
        parts = [f"{self.window.rows} rows of {self.model_version}"]
        if self.dataset is not None and self.dataset.share is not None:
            drifted = [f.name for f in self.features if f.drifted]
            parts.append(f"drift share {self.dataset.share:.2f}" + (f" ({', '.join(drifted)})" if drifted else ""))
        if self.prediction is not None and self.prediction.score is not None:
            parts.append(f"prediction drift {self.prediction.score:.3f}")
        if self.quality is not None and self.quality.mae_seconds is not None:
            parts.append(f"MAE {self.quality.mae_seconds / 60:.2f} min on {self.quality.rows} labelled rows")
        return ", ".join(parts)
