"""The catalogue of traffic profiles: names, one-line summaries and tunable parameters.

Kept apart from ``shapes.py`` because importing Locust monkey-patches the whole process with gevent; the
CLI validates a profile and its parameters here without paying for (or being changed by) that import.
``shapes.py`` implements each entry, and a test keeps the two in step.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TrafficProfile:
    name: str
    summary: str
    params: tuple[str, ...] = ()


TRAFFIC_PROFILES: dict[str, TrafficProfile] = {
    p.name: p
    for p in (
        TrafficProfile("steady", "Constant load after a short ramp: the baseline.", ("ramp_seconds",)),
        TrafficProfile("ramp", "Linear climb to the peak, then a hold: where does latency bend?",
                       ("start_users", "ramp_fraction")),
        TrafficProfile("spike", "Baseline, a sudden jump to the peak, and back: a flash sale.",
                       ("base_fraction", "spike_at", "spike_length")),
        TrafficProfile("soak", "Steady load for a long time: leaks, log growth, slow degradation.",
                       ("ramp_seconds",)),
        TrafficProfile("diurnal", "A day of demand compressed into minutes: night trough, lunch and dinner "
                       "peaks.", ("day_seconds", "start_hour")),
    )
}


def parse_params(profile: str, text: str | None) -> dict[str, float]:
    """``"spike_at=0.5,spike_length=0.1"`` -> checked overrides for ``profile``; ValueError names the fix."""
    if profile not in TRAFFIC_PROFILES:
        raise ValueError(f"unknown traffic profile {profile!r}; choose one of: {', '.join(TRAFFIC_PROFILES)}")
    allowed = TRAFFIC_PROFILES[profile].params
    out: dict[str, float] = {}
    for item in filter(None, (part.strip() for part in (text or "").split(","))):
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or key not in allowed:
            raise ValueError(f"shape parameter {item!r} is not valid for profile {profile!r}; its parameters "
                             f"are: {', '.join(allowed)} (write name=value)")
        try:
            value = float(raw)
        except ValueError:
            raise ValueError(f"shape parameter {key}={raw.strip()!r} is not a number") from None
        if not 0 <= value < float("inf"):
            raise ValueError(f"shape parameter {key}={raw.strip()} must be a finite number >= 0")
        out[key] = value
    return out
