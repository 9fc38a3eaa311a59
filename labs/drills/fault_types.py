"""The faults a drill file can ask for, as a tagged union on ``type`` (part of the drill file format).

Each one looks like a real cause -- a flag flipped by a bot, a release, a killed process, a config push --
and names the believable actor that shows up in the lab's own histories.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator

from labs.drills.schema_base import Actor, CheckoutRelease, Duration, Scenario, Strict, deep
from labs.traffic_feed.control import check_delay_fits_mode
from model_service.runtime_config import FLAG_NAMES, RuntimeConfig

MAX_DELAY_S = 3600.0  # a fault that starts later than an hour into a drill is a different drill


class Timed(Strict):
    """When a fault starts, relative to the drill's injection moment (after the traffic warm-up).

    ``after`` delays it; ``window`` makes the moment random within ``[after, after + window]`` -- seeded, and
    recorded in the journal, so the report says when each fault really started. Both 0: at once.
    """

    after: Duration = Field(0.0, ge=0, le=MAX_DELAY_S, description="Start this long after the injection.")
    window: Duration = Field(0.0, ge=0, le=MAX_DELAY_S, description="Start at a random moment within it.")


# --- faults -----------------------------------------------------------------------------------------------


class ConfigFlagFault(Timed):
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


class BadModelFault(Timed):
    """A candidate trained on broken data, registered and deployed as a routine release."""

    type: Literal["bad_model"]
    corruption: str
    description: str = Field(min_length=1, description="The release note the registry shows (no spoilers).")
    actor: Actor = "deploy-bot"
    seed: int = Field(0, ge=0, description="Training seed: fixes how bad the candidate is.")

    @field_validator("corruption")
    @classmethod
    def _known(cls, value: str, info: ValidationInfo) -> str:
        if deep(info):
            from model_service.corruptions import CORRUPTIONS

            if value not in CORRUPTIONS:
                raise ValueError(f"unknown corruption {value!r}; choose one of: {', '.join(CORRUPTIONS)}")
        return value


class StaleModelFault(Timed):
    """Old model versions (trained ``age_days`` ago) restored and deployed, oldest first."""

    type: Literal["stale_model"]
    age_days: list[Annotated[float, Field(gt=0, le=3650)]] = Field(min_length=1, max_length=3)
    description: str = Field(min_length=1)
    actor: Actor = "dr-restore"


class ProcessFault(Timed):
    """A lab process crashed (SIGKILL) or hung (SIGSTOP), through the process runtime."""

    type: Literal["process"]
    component: Literal["model-service", "drift-monitor", "pager", "alertmanager", "traffic-feed"]
    action: Literal["kill", "pause"]


class DependencyFault(Timed):
    """The service's upstream dependency degrades on the provider's side: slow answers or errors.

    The provider's process stays up and its health check stays green, so no restart in the lab helps: the
    service has to survive it (timeout, fallback), as with a real third-party outage.
    """

    type: Literal["dependency"]
    dependency: Literal["traffic-feed"] = "traffic-feed"
    mode: Literal["slow", "down"]
    delay_ms: int = Field(0, ge=0, le=30_000, description="slow: added to every lookup the provider answers.")
    note: str = Field(min_length=1, max_length=300, description="What the provider's status page would say.")

    @model_validator(mode="after")
    def _delay_fits_mode(self) -> DependencyFault:
        check_delay_fits_mode(self.mode, self.delay_ms)
        return self


class UpstreamReleaseFault(Timed):
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


class UpstreamStallFault(Timed):
    """The label pipeline (the job that posts ground truth to /feedback) stalls."""

    type: Literal["upstream_stall"]
    client: Literal["label-pipeline"] = "label-pipeline"
    note: str = Field(min_length=1, max_length=300)


class TrafficSurgeFault(Timed):
    """More checkout traffic than usual (a promotion): not a release, nothing to roll back."""

    type: Literal["traffic_surge"]
    rate_per_s: float = Field(gt=0, le=400)
    note: str = Field(min_length=1, max_length=300)


class DataShiftFault(Timed):
    """The world the traffic comes from changes (covariate or concept drift): nothing to roll back."""

    type: Literal["data_shift"]
    scenario: Scenario
    note: str = Field(min_length=1, max_length=300)


class ScrapeTargetFault(Timed):
    """Prometheus' scrape target for a job points at the wrong port (a bad config push), then reloads."""

    type: Literal["scrape_target"]
    job: str = "model-service"
    actor: Actor = "config-sync"
    note: str = Field(min_length=1, max_length=300)


Fault = Annotated[
    ConfigFlagFault | BadModelFault | StaleModelFault | ProcessFault | UpstreamReleaseFault | UpstreamStallFault
    | TrafficSurgeFault | DataShiftFault | ScrapeTargetFault | DependencyFault,
    Field(discriminator="type"),
]
