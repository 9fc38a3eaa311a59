"""The drill file format (``labs/drills/catalogue/<id>.yml``), validated with pydantic.

A drill is data, not code: the story, the fault(s), the traffic, what must hold for the incident to count as
mitigated, hints and the debrief. Faults and checks are tagged unions on ``type`` so a typo in a fault type
or a flag value is refused when the catalogue loads, naming the file and the field -- never halfway through
a learner's drill.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from model_service.features import FEATURE_NAMES
from model_service.runtime_config import FLAG_NAMES, RuntimeConfig

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h|d)$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
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
}


def _deep(info: ValidationInfo) -> bool:
    """Names that live in heavy modules (data scenarios: pandas; corruptions: scikit-learn) are checked
    unless the caller asks for a shallow load: ``aiops-lab drill list`` should not pay two seconds of
    imports. The tests and ``drill start`` always validate deeply."""
    return not (info.context or {}).get("shallow", False)


def _check_scenario(value: str, info: ValidationInfo) -> str:
    if _deep(info):
        from model_service.generator import SCENARIOS

        if value not in SCENARIOS:
            raise ValueError(f"unknown data scenario {value!r}; choose one of: {', '.join(SCENARIOS)}")
    return value


def parse_duration(value: Any) -> float:
    """``"30s"``, ``"2m"``, ``"1.5h"``, ``"250ms"`` or a number of seconds -> seconds."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 30s, 2m or 1h")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value).strip())
        if not match:
            raise ValueError(f"{value!r} is not a duration; use e.g. 30s, 2m, 1h")
        seconds = float(match.group(1)) * _UNITS[match.group(2)]
    if seconds < 0:
        raise ValueError("a duration cannot be negative")
    return seconds


Duration = Annotated[float, BeforeValidator(parse_duration)]
Actor = Annotated[str, Field(pattern=_ACTOR)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- traffic ----------------------------------------------------------------------------------------------


class CheckoutRelease(_Strict):
    """What the upstream client ``checkout-api`` sends to ``/predict``: its rate, batches and data."""

    version: str = "3.14.1"
    rate_per_s: float = Field(8.0, gt=0, le=400)
    batch_share: float = Field(0.0, ge=0, le=1, description="Share of requests that are batches.")
    batch_size: int = Field(50, ge=2, le=1000)
    scenario: str = "normal"
    rename: dict[str, str] = Field(default_factory=dict, description="Field renames: feature -> name sent.")

    @field_validator("scenario")
    @classmethod
    def _known_scenario(cls, value: str, info: ValidationInfo) -> str:
        return _check_scenario(value, info)

    @field_validator("rename")
    @classmethod
    def _known_features(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            if name not in FEATURE_NAMES:
                raise ValueError(f"cannot rename {name!r}: not a feature ({', '.join(FEATURE_NAMES)})")
        return value


class Traffic(_Strict):
    """Background traffic the drill runs: the checkout client plus the label pipeline posting feedback."""

    checkout: CheckoutRelease = Field(default_factory=CheckoutRelease)
    feedback_ratio: float = Field(0.5, ge=0, le=1, description="Share of predictions that get a label.")
    warmup: Duration = Field(3.0, le=120, description="Healthy traffic before the fault is injected.")


# --- faults -----------------------------------------------------------------------------------------------


class ConfigFlagFault(_Strict):
    """A runtime flag changed through the admin API by a believable actor (deploy bot, flags UI)."""

    type: Literal["config_flag"]
    flag: str
    value: Any
    actor: Actor
    reason: str = Field(min_length=1, max_length=500)

    @model_validator(mode="after")
    def _valid_flag(self) -> ConfigFlagFault:
        if self.flag not in FLAG_NAMES:
            raise ValueError(f"flag: unknown flag {self.flag!r}; known flags: {', '.join(FLAG_NAMES)}")
        try:
            RuntimeConfig.model_validate({self.flag: self.value})
        except ValidationError as exc:
            raise ValueError(f"value: {self.value!r} is not valid for {self.flag}: {exc.errors()[0]['msg']}") from None
        return self


class BadModelFault(_Strict):
    """A candidate trained on broken data, registered and deployed as a routine release."""

    type: Literal["bad_model"]
    corruption: str
    description: str = Field(min_length=1, description="The release note the registry shows (no spoilers).")
    actor: Actor = "deploy-bot"
    seed: int = Field(0, ge=0, description="Training seed: fixes how bad the candidate is.")

    @field_validator("corruption")
    @classmethod
    def _known(cls, value: str, info: ValidationInfo) -> str:
        if _deep(info):
            from model_service.training import CORRUPTIONS

            if value not in CORRUPTIONS:
                raise ValueError(f"unknown corruption {value!r}; choose one of: {', '.join(CORRUPTIONS)}")
        return value


class StaleModelFault(_Strict):
    """Old model versions (trained ``age_days`` ago) restored and deployed, oldest first."""

    type: Literal["stale_model"]
    age_days: list[Annotated[float, Field(gt=0, le=3650)]] = Field(min_length=1, max_length=3)
    description: str = Field(min_length=1)
    actor: Actor = "dr-restore"


class ProcessFault(_Strict):
    """A lab process crashed (SIGKILL) or hung (SIGSTOP), through the process runtime."""

    type: Literal["process"]
    component: Literal["model-service", "drift-monitor", "pager", "alertmanager"]
    action: Literal["kill", "pause"]


class UpstreamReleaseFault(_Strict):
    """The checkout client ships a release that changes what it sends (renamed field, unit bug)."""

    type: Literal["upstream_release"]
    client: Literal["checkout-api"] = "checkout-api"
    version: str = Field(min_length=1, max_length=40)
    change: dict[str, Any] = Field(min_length=1, description="CheckoutRelease fields the release changes.")
    actor: Actor = "checkout-ci"
    note: str = Field(min_length=1, max_length=300)

    @field_validator("change")
    @classmethod
    def _valid_change(cls, value: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        CheckoutRelease.model_validate({**value, "version": "x"}, context=info.context)
        return value


class UpstreamStallFault(_Strict):
    """The label pipeline (the job that posts ground truth to /feedback) stalls."""

    type: Literal["upstream_stall"]
    client: Literal["label-pipeline"] = "label-pipeline"
    note: str = Field(min_length=1, max_length=300)


class TrafficSurgeFault(_Strict):
    """More checkout traffic than usual (a promotion): not a release, nothing to roll back."""

    type: Literal["traffic_surge"]
    rate_per_s: float = Field(gt=0, le=400)
    note: str = Field(min_length=1, max_length=300)


class DataShiftFault(_Strict):
    """The world the traffic comes from changes (covariate or concept drift): nothing to roll back."""

    type: Literal["data_shift"]
    scenario: str
    note: str = Field(min_length=1, max_length=300)

    @field_validator("scenario")
    @classmethod
    def _known_scenario(cls, value: str, info: ValidationInfo) -> str:
        return _check_scenario(value, info)


class ScrapeTargetFault(_Strict):
    """Prometheus' scrape target for a job points at the wrong port (a bad config push), then reloads."""

    type: Literal["scrape_target"]
    job: str = "model-service"
    actor: Actor = "config-sync"
    note: str = Field(min_length=1, max_length=300)


Fault = Annotated[
    ConfigFlagFault | BadModelFault | StaleModelFault | ProcessFault | UpstreamReleaseFault | UpstreamStallFault
    | TrafficSurgeFault | DataShiftFault | ScrapeTargetFault,
    Field(discriminator="type"),
]

# --- success checks ---------------------------------------------------------------------------------------


class PromCheck(_Strict):
    """A PromQL condition that must hold at every evaluation over the last ``hold`` (Prometheus data)."""

    type: Literal["promql"]
    name: str = Field(min_length=1)
    query: str = Field(min_length=1)
    op: Literal["<", "<=", ">", ">=", "==", "!="]
    threshold: float
    hold: Duration = Field(0.0, le=600)


class GoldenCheck(_Strict):
    """Quality of the *live* service on held-out labelled rows: MAE of /predict against the truth."""

    type: Literal["golden_set"]
    name: str = Field(min_length=1)
    scenario: str = Field("normal", description="normal = training.golden_set(); else a held-out set of it.")
    rows: int = Field(1000, ge=100, le=2000)
    max_mae_minutes: float = Field(gt=0)

    @field_validator("scenario")
    @classmethod
    def _known_scenario(cls, value: str, info: ValidationInfo) -> str:
        return _check_scenario(value, info)


class ServiceCheck(_Strict):
    """A component answers its readiness endpoint now."""

    type: Literal["service"]
    name: str = Field(min_length=1)
    component: Literal["model-service", "drift-monitor", "pager", "prometheus", "alertmanager"] = "model-service"


Check = Annotated[PromCheck | GoldenCheck | ServiceCheck, Field(discriminator="type")]

# --- the drill --------------------------------------------------------------------------------------------


class Debrief(_Strict):
    root_cause: str = Field(min_length=1)
    good_response: str = Field(min_length=1, description="What a good response looked like.")
    mitigation: list[str] = Field(min_length=1, description="The commands that fix it, in order.")
    wrong_moves: str = ""


class Drill(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")
    title: str = Field(min_length=1, max_length=80)
    difficulty: Literal["easy", "medium", "hard"]
    estimated_minutes: int = Field(ge=1, le=120)
    trains: list[str] = Field(min_length=1)
    briefing: str = Field(min_length=1, description="Symptoms only, as the on-call would hear them.")
    objectives: list[str] = Field(min_length=1)
    traffic: Traffic | None = Field(default_factory=Traffic)
    faults: list[Fault] = Field(min_length=1)
    expected_alerts: list[str] = Field(default_factory=list,
                                       description="Alerts that should page; empty when no rule covers it.")
    checks: list[Check] = Field(min_length=1)
    resilience: bool = Field(False, description="Checks run while the fault is still active (it never ends).")
    accepted_actions: list[str] = Field(default_factory=list,
                                        description="Learner actions that are not wrong (fnmatch patterns).")
    hints: list[str] = Field(min_length=1)
    debrief: Debrief
    runbooks: list[str] = Field(min_length=1, description="Repo-relative paths; the first is the drill guide.")

    @field_validator("trains")
    @classmethod
    def _known_tags(cls, value: list[str]) -> list[str]:
        for tag in value:
            if tag not in TRAINS:
                raise ValueError(f"unknown tag {tag!r}; choose from: {', '.join(TRAINS)}")
        return value

    @model_validator(mode="after")
    def _guide_first(self) -> Drill:
        guide = f"runbooks/drills/{self.id}.md"
        if self.runbooks[0] != guide:
            raise ValueError(f"runbooks: the first entry must be the drill guide {guide}")
        return self
