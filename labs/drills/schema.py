"""The drill file format (``labs/drills/catalogue/<id>.yml``), validated with pydantic.

A drill is data, not code: the story, the fault(s), the traffic, what must hold for the incident to count as
mitigated, hints and the debrief. Faults and checks are tagged unions on ``type`` so a typo in a fault type
or a flag value is refused when the catalogue loads, naming the file and the field -- never halfway through
a learner's drill.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from labs.drills.fault_types import Fault
from labs.drills.schema_base import TRAINS, Duration, Scenario, Strict, Traffic

# --- success checks ---------------------------------------------------------------------------------------


class PromCheck(Strict):
    """A PromQL condition that must hold at every evaluation over the last ``hold`` (Prometheus data)."""

    type: Literal["promql"]
    name: str = Field(min_length=1)
    query: str = Field(min_length=1)
    op: Literal["<", "<=", ">", ">=", "==", "!="]
    threshold: float
    hold: Duration = Field(0.0, le=600)


class GoldenCheck(Strict):
    """Quality of the *live* service on held-out labelled rows: MAE of /predict against the truth."""

    type: Literal["golden_set"]
    name: str = Field(min_length=1)
    scenario: Scenario = Field("normal", description="normal = training.golden_set(); else a held-out set of it.")
    rows: int = Field(1000, ge=100, le=2000)
    max_mae_minutes: float = Field(gt=0)


class ServiceCheck(Strict):
    """A component answers its readiness endpoint now."""

    type: Literal["service"]
    name: str = Field(min_length=1)
    component: Literal["model-service", "drift-monitor", "pager", "prometheus", "alertmanager"] = "model-service"


Check = Annotated[PromCheck | GoldenCheck | ServiceCheck, Field(discriminator="type")]

# --- the drill --------------------------------------------------------------------------------------------


class Debrief(Strict):
    root_cause: str = Field(min_length=1)
    good_response: str = Field(min_length=1, description="What a good response looked like.")
    mitigation: list[str] = Field(min_length=1, description="The commands that fix it, in order.")
    wrong_moves: str = ""


class Drill(Strict):
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
    def _guide_first(self, info: ValidationInfo) -> Drill:
        """The shipped catalogue keeps its guides in ``runbooks/drills/ID.md``; a user's drill (loaded with
        ``user_drill`` in the context) may keep its guide anywhere, usually beside the drill file
        (``labs.drills.catalogue.guide_path`` resolves it)."""
        guide = f"runbooks/drills/{self.id}.md"
        if (info.context or {}).get("user_drill"):
            if not self.runbooks[0].endswith(".md"):
                raise ValueError(f"runbooks: the first entry must be the drill guide, a .md file ({self.id}.md)")
        elif self.runbooks[0] != guide:
            raise ValueError(f"runbooks: the first entry must be the drill guide {guide}")
        return self
