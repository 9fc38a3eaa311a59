"""Request bodies the pager accepts, validated with pydantic so a bad payload is a 422 naming the field.

The webhook models follow Alertmanager 0.25's webhook payload (version "4"). Unknown keys are ignored on
purpose: newer Alertmanagers add fields (``truncatedAlerts`` appeared in 0.22) and the pager must keep
receiving pages when Alertmanager is upgraded.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

AlertStatus = Literal["firing", "resolved"]
MAX_ALERTS_PER_NOTIFICATION = 1000


class WebhookAlert(BaseModel):
    """One alert inside a notification; its own ``status`` wins over the group's."""

    model_config = ConfigDict(extra="ignore")

    status: AlertStatus
    labels: dict[str, str] = Field(description="Must include alertname.")
    annotations: dict[str, str] = Field(default_factory=dict)
    startsAt: datetime
    # Alertmanager sends 0001-01-01T00:00:00Z for alerts that have not ended.
    endsAt: datetime | None = None
    generatorURL: str = Field(default="", max_length=4096)
    fingerprint: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$")

    @field_validator("labels")
    @classmethod
    def _needs_alertname(cls, labels: dict[str, str]) -> dict[str, str]:
        if not labels.get("alertname"):
            raise ValueError("labels must include a non-empty 'alertname'")
        return labels


class WebhookPayload(BaseModel):
    """An Alertmanager webhook notification (payload version 4)."""

    model_config = ConfigDict(extra="ignore")

    version: Literal["4"]
    status: AlertStatus
    receiver: str = Field(min_length=1, max_length=256)
    groupKey: str = Field(max_length=4096)
    groupLabels: dict[str, str] = Field(default_factory=dict)
    commonLabels: dict[str, str] = Field(default_factory=dict)
    commonAnnotations: dict[str, str] = Field(default_factory=dict)
    externalURL: str = Field(default="", max_length=4096)
    truncatedAlerts: int = Field(default=0, ge=0)
    alerts: list[WebhookAlert] = Field(min_length=1, max_length=MAX_ALERTS_PER_NOTIFICATION)


class DrillRequest(BaseModel):
    """Which drill is running (``null`` when none): becomes the bounded ``drill`` label of a metric."""

    model_config = ConfigDict(extra="forbid")

    drill: str | None = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")


class AckRequest(BaseModel):
    """Acknowledge the page(s) of an alert, by fingerprint or alert name."""

    model_config = ConfigDict(extra="forbid")

    target: str = Field(min_length=1, max_length=256, description="Fingerprint or alertname.")
    by: str = Field(default="cli", min_length=1, max_length=64)

