"""The feature schema: the single definition of every model input.

Everything that needs to know about features -- request validation, the prediction-log columns, the
per-feature metrics, the data generator, the drift monitor, the load profiles -- reads this module, so a
feature is added or re-bounded in exactly one place.

Validation bounds are *physical* limits (what can exist at all), deliberately wider than the training
range: a value that is possible but unusual must reach the model and show up as drift, while a value that
cannot exist is rejected with a 422. ``distance_km`` is bounded by half of Earth's circumference, which is
why "metres sent as km" (a unit bug) is accepted and becomes visible as drift and out-of-range share rather
than as errors -- that is the lesson of the unit-change drill.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

TARGET = "delivery_minutes"
TARGET_UNIT = "min"


@dataclass(frozen=True)
class FeatureSpec:
    """One model input, with its unit, type and physical bounds."""

    name: str
    unit: str
    kind: Literal["float", "int"]
    minimum: float
    maximum: float
    description: str
    # Histogram bucket upper bounds for the per-feature value metric (feature units).
    buckets: tuple[float, ...]
    # Nullable features may be ``null`` when their upstream source has no reading; the service
    # imputes the training median and counts the row as "missing".
    nullable: bool = False
    # The lab component the service asks for this feature when a client omits it (``None``: clients
    # must send it). Omitted is not null: null says "there is no reading", omitted says "look it up".
    lookup: str | None = None

    @property
    def metric_name(self) -> str:
        """Name of this feature's value histogram (the unit is already part of the feature name)."""
        return f"aiops_feature_{self.name}"


FEATURES: tuple[FeatureSpec, ...] = (
    FeatureSpec(name="distance_km", unit="km", kind="float", minimum=0.0, maximum=20_000.0,
                description="Road distance from restaurant to customer, kilometres.",
                buckets=(0.5, 1, 2, 3, 5, 8, 12, 20, 50, 1000)),
    FeatureSpec(name="items_count", unit="items", kind="int", minimum=1, maximum=200,
                description="Number of items in the order.", buckets=(1, 2, 3, 5, 8, 12, 20, 50)),
    FeatureSpec(name="is_peak_hour", unit="bool", kind="int", minimum=0, maximum=1,
                description="1 when the order is placed during lunch or dinner peak, else 0.", buckets=(0, 1)),
    FeatureSpec(name="traffic_index", unit="index 0-10", kind="float", minimum=0.0, maximum=10.0,
                description="Live road congestion from the traffic feed: 0 = empty roads, 10 = gridlock. null "
                "when the feed has no reading; omit it and the service looks it up in the traffic feed.",
                buckets=(0, 1, 2, 3, 4, 5, 6, 7, 8, 10), nullable=True, lookup="traffic-feed"),
    FeatureSpec(name="courier_experience_months", unit="months", kind="float", minimum=0.0, maximum=600.0,
                description="How long the assigned courier has been delivering, months.",
                buckets=(1, 3, 6, 12, 24, 48, 96, 240)),
)

FEATURE_NAMES: tuple[str, ...] = tuple(f.name for f in FEATURES)
FEATURES_BY_NAME: dict[str, FeatureSpec] = {f.name: f for f in FEATURES}


def feature(name: str) -> FeatureSpec:
    """Look a feature up by name, with an error that lists the valid names."""
    try:
        return FEATURES_BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown feature {name!r}; known features: {', '.join(FEATURE_NAMES)}") from None
