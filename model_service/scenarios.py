"""The worlds the data generator can simulate, by name: plain data, no numpy or pandas.

Separate from ``model_service.generator`` so that validating a name (a drill file, a CLI option) does not
import the numeric stack: ``drill start`` on a busy laptop paid seconds for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Scenario:
    """How live data departs from the training distribution.

    distance_scale: covariate shift, e.g. a new city with longer routes (1.0 = none).
    traffic_shift: added to traffic_index before clipping, e.g. rain (+3).
    feed_broken: ``"zero"`` or ``"null"`` -- the upstream traffic feed sends zeros or nothing.
    distance_unit_factor: unit bug, e.g. 1000 when metres are sent in the km field.
    concept: changed ground-truth coefficients (concept drift: inputs look the same, the world differs).
    concept_intercept_shift: added to the true intercept under concept drift.
    """

    name: str
    description: str
    distance_scale: float = 1.0
    traffic_shift: float = 0.0
    feed_broken: str | None = None
    distance_unit_factor: float = 1.0
    concept: dict[str, float] = field(default_factory=dict)
    concept_intercept_shift: float = 0.0


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario("normal", "Same distribution as the training data."),
        Scenario("covariate-shift", "Expansion to a sprawling city: routes about 1.8x longer.",
                 distance_scale=1.8),
        Scenario("rain", "Heavy rain: traffic index up by 3 points.", traffic_shift=3.0),
        Scenario("feed-broken-zero", "Traffic feed broken: traffic_index arrives as 0.", feed_broken="zero"),
        Scenario("feed-broken-null", "Traffic feed broken: traffic_index arrives as null.", feed_broken="null"),
        Scenario("unit-error", "Upstream sends distance in metres in the distance_km field.",
                 distance_unit_factor=1000.0),
        Scenario("concept-drift", "Courier pay change: traffic hurts twice as much and every delivery "
                 "takes 6 minutes longer; inputs look unchanged.",
                 concept={"traffic_index": 3.0}, concept_intercept_shift=6.0),
    )
}


def scenario(name: str) -> Scenario:
    """Look a scenario up by name, with an error listing the valid names."""
    try:
        return SCENARIOS[name]
    except KeyError:
        raise KeyError(f"unknown data scenario {name!r}; choose one of: {', '.join(SCENARIOS)}") from None


__all__ = ["SCENARIOS", "Scenario", "scenario"]
