"""Building blocks of the drill file format shared by the fault and drill models: durations, actors, the
checkout client's release (what the drill's traffic sends) and the deep/shallow validation switch."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, field_validator

from aiops_core.durations import parse_seconds
from model_service.features import FEATURE_NAMES

_ACTOR = r"^[A-Za-z0-9@._:-]{1,64}$"  # what the admin API accepts in X-Actor

# What a drill trains: a monitoring test of the ML Test Score (Breck et al., 2017, section 5) or an SRE skill.
TRAINS: dict[str, str] = {
    "ml-monitor-1": "ML Test Score Monitor 1: dependency changes result in notification",
    "ml-monitor-2": "ML Test Score Monitor 2: data invariants hold in training and serving inputs",
    "ml-monitor-3": "ML Test Score Monitor 3: training and serving features compute the same values",
    "ml-monitor-4": "ML Test Score Monitor 4: models are not too stale",
    "ml-monitor-5": "ML Test Score Monitor 5: the model is numerically stable",
    "ml-monitor-6": "ML Test Score Monitor 6: no regression in serving latency, throughput or RAM usage",
    "ml-monitor-7": "ML Test Score Monitor 7: no regression in prediction quality on served data",
    "sre-change-rollback": "SRE: find the change that caused an incident and revert it",
    "sre-slo-burn": "SRE: respond to an error-budget burn alert",
    "sre-crash-recovery": "SRE: recover a crashed process",
    "sre-hung-process": "SRE: tell a hung process from a dead one",
    "sre-capacity": "SRE: keep the SLO under a load surge by shedding optional work",
    "sre-resource-leak": "SRE: diagnose and stop a resource leak",
    "sre-monitoring-the-monitoring": "SRE: notice and fix a monitoring blind spot",
    "sre-upstream-dependency": "SRE: find a fault in an upstream client and get it rolled back",
    "sre-dependency-resilience": "SRE: keep the SLO while a dependency is slow or down (timeouts, fallbacks)",
}


def deep(info: ValidationInfo) -> bool:
    """Names that live in heavy modules (data scenarios: pandas; corruptions: scikit-learn) are checked
    unless the caller asks for a shallow load: ``aiops-lab drill list`` should not pay two seconds of
    imports. The tests and ``drill start`` always validate deeply."""
    return not (info.context or {}).get("shallow", False)


def check_scenario(value: str, info: ValidationInfo) -> str:
    if deep(info):
        from model_service.scenarios import SCENARIOS

        if value not in SCENARIOS:
            raise ValueError(f"unknown data scenario {value!r}; choose one of: {', '.join(SCENARIOS)}")
    return value


Duration = Annotated[float, BeforeValidator(parse_seconds)]
# A data scenario of model_service.generator (checked unless the load is shallow, see ``deep``).
Scenario = Annotated[str, AfterValidator(check_scenario)]
Actor = Annotated[str, Field(pattern=_ACTOR)]


class Strict(BaseModel):
    """Drill files are strict: an unknown key is a typo, not an extension point."""

    model_config = ConfigDict(extra="forbid", frozen=True)


# --- traffic ----------------------------------------------------------------------------------------------


class CheckoutRelease(Strict):
    """What the upstream client ``checkout-api`` sends to ``/predict``: its rate, batches and data."""

    version: str = "3.14.1"
    rate_per_s: float = Field(8.0, gt=0, le=400)
    batch_share: float = Field(0.0, ge=0, le=1, description="Share of requests that are batches.")
    batch_size: int = Field(50, ge=2, le=1000)
    scenario: Scenario = "normal"
    rename: dict[str, str] = Field(default_factory=dict, description="Field renames: feature -> name sent.")
    mobile_share: float = Field(0.0, ge=0, le=1, description="Share of requests from the mobile app, which "
                                "cannot see road traffic: they omit traffic_index and the service looks it up.")

    @field_validator("rename")
    @classmethod
    def _known_features(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            if name not in FEATURE_NAMES:
                raise ValueError(f"cannot rename {name!r}: not a feature ({', '.join(FEATURE_NAMES)})")
        return value


class Traffic(Strict):
    """Background traffic the drill runs: the checkout client plus the label pipeline posting feedback."""

    checkout: CheckoutRelease = Field(default_factory=CheckoutRelease)
    feedback_ratio: float = Field(0.5, ge=0, le=1, description="Share of predictions that get a label.")
    warmup: Duration = Field(3.0, le=120, description="Healthy traffic before the fault is injected.")
