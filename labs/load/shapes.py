"""Traffic shapes: how many users Locust runs at each moment of a test.

Every shape scales to a *peak* user count and a *duration*, taken from Locust's own ``-u/--users`` and
``-t/--run-time`` (``use_common_options``), so one command line works for every shape. Shape-specific
settings are class attributes, listed in ``params`` and overridable per run with
``--shape-params "spike_at=0.5,spike_length=0.1"`` (env ``AIOPS_LOAD_SHAPE_PARAMS``).

``tick()`` returns ``(users, spawn_rate)`` or ``None`` to stop. The spawn rate is the change since the
previous tick, so every change lands within about one second: Locust's runner blocks on a ramp, and a slow
ramp would silently flatten a spike.
"""

from __future__ import annotations

from typing import ClassVar

from locust import LoadTestShape

from labs.load.profiles import TRAFFIC_PROFILES, parse_params


class ProfileShape(LoadTestShape):
    """Base class: a user curve ``users_at(t)`` scaled to ``users`` and stopped after ``duration``.

    users: peak user count (``-u``); the curve never exceeds it and never drops below 1.
    duration: seconds until the test stops (``-t``); ``None`` runs until stopped.
    """

    abstract = True
    use_common_options = True
    users: int = 10
    duration: float | None = 60.0
    params: ClassVar[tuple[str, ...]] = ()

    def __init__(self) -> None:
        super().__init__()
        self._last: tuple[int, float] | None = None

    def reset_time(self) -> None:
        super().reset_time()
        self._last = None

    def configure(self, users: int | None = None, duration: float | None = None,
                  params: dict[str, float] | None = None) -> ProfileShape:
        """Override the class defaults for this run (``None`` keeps the default)."""
        if users is not None:
            self.users = int(users)
        if duration is not None:
            self.duration = float(duration)
        for name, value in (params or {}).items():
            setattr(self, name, value)
        return self

    def users_at(self, t: float) -> float:
        """Users wanted ``t`` seconds into the test (before clamping to 1..users)."""
        raise NotImplementedError

    def target(self, t: float) -> int:
        return max(1, min(self.users, round(self.users_at(t))))

    def stop_after(self) -> float | None:
        return self.duration

    def tick(self) -> tuple[int, float] | None:
        t = self.get_run_time()
        end = self.stop_after()
        if end is not None and t >= end:
            return None
        users = self.target(t)
        if self._last is not None and self._last[0] == users:
            return self._last
        previous = self._last[0] if self._last is not None else 0
        self._last = (users, float(max(1, abs(users - previous))))
        return self._last


class SteadyShape(ProfileShape):
    """Constant load after a short linear ramp: the baseline every other shape is compared with.

    ramp_seconds: time to reach ``users`` from 1 (default 5 s).
    """

    duration = None
    ramp_seconds: float = 5.0
    params = TRAFFIC_PROFILES["steady"].params

    def users_at(self, t: float) -> float:
        return self.users * min(1.0, (t + 1.0) / max(self.ramp_seconds, 1.0))


class RampShape(ProfileShape):
    """A linear climb from ``start_users`` to ``users``, then a hold: watch where latency bends.

    start_users: users at t=0 (default 1).
    ramp_fraction: share of ``duration`` spent climbing; the rest holds the peak (default 0.8).
    """

    duration = 300.0
    start_users: float = 1.0
    ramp_fraction: float = 0.8
    params = TRAFFIC_PROFILES["ramp"].params

    def users_at(self, t: float) -> float:
        climb = max((self.duration or 300.0) * self.ramp_fraction, 1.0)
        return self.start_users + (self.users - self.start_users) * min(1.0, t / climb)


class SpikeShape(ProfileShape):
    """A baseline, a sudden jump to the peak, and back: a flash sale or a retry storm.

    base_fraction: baseline as a share of ``users`` (default 0.2).
    spike_at: when the spike starts, as a share of ``duration`` (default 0.4).
    spike_length: how long it lasts, as a share of ``duration`` (default 0.2).
    """

    duration = 120.0
    base_fraction: float = 0.2
    spike_at: float = 0.4
    spike_length: float = 0.2
    params = TRAFFIC_PROFILES["spike"].params

    def users_at(self, t: float) -> float:
        d = self.duration or 120.0
        start = self.spike_at * d
        if start <= t < start + self.spike_length * d:
            return self.users
        return self.users * self.base_fraction


class SoakShape(SteadyShape):
    """Steady load held for a long time with a gentle ramp: finds leaks, log growth and slow drift.

    ramp_seconds: time to reach ``users`` (default 60 s); ``duration`` defaults to 30 minutes.
    """

    duration = 1800.0
    ramp_seconds = 60.0
    params = TRAFFIC_PROFILES["soak"].params


# Relative demand per hour of the day for food delivery: a night trough, a lunch peak and a dinner peak.
HOURLY_DEMAND: tuple[float, ...] = (
    0.10, 0.06, 0.04, 0.03, 0.03, 0.05, 0.10, 0.20, 0.30, 0.35, 0.45, 0.75,  # 00:00 - 11:00
    1.00, 0.85, 0.55, 0.45, 0.50, 0.70, 0.95, 1.00, 0.80, 0.55, 0.35, 0.20,  # 12:00 - 23:00
)


class DiurnalShape(ProfileShape):
    """A day of delivery demand compressed into minutes: night trough, lunch and dinner peaks.

    day_seconds: length of one compressed day; 0 (the default) fits one day into ``duration``, or into
        300 s when the run has no duration. A duration longer than a set day repeats the day.
    start_hour: the hour of day the test starts at, 0-24 (default 0, midnight).
    Demand per hour is ``HOURLY_DEMAND`` (1.0 = ``users``), interpolated linearly between hours.
    """

    duration = None
    day_seconds: float = 0.0
    start_hour: float = 0.0
    params = TRAFFIC_PROFILES["diurnal"].params

    def day_length(self) -> float:
        if self.day_seconds > 0:
            return max(self.day_seconds, 1.0)
        return max(self.duration or 300.0, 1.0)

    def stop_after(self) -> float | None:
        return self.duration if self.duration is not None else self.day_length()

    def hour_at(self, t: float) -> float:
        return (self.start_hour + 24.0 * t / self.day_length()) % 24.0

    def users_at(self, t: float) -> float:
        hour = self.hour_at(t)
        low = int(hour)
        frac = hour - low
        level = HOURLY_DEMAND[low] * (1 - frac) + HOURLY_DEMAND[(low + 1) % 24] * frac
        return self.users * level


PROFILES: dict[str, type[ProfileShape]] = {
    "steady": SteadyShape,
    "ramp": RampShape,
    "spike": SpikeShape,
    "soak": SoakShape,
    "diurnal": DiurnalShape,
}


def build(profile: str, users: int | None = None, duration: float | None = None,
          params: str | None = None) -> ProfileShape:
    """A configured shape for ``profile``; ValueError names an unknown profile or parameter."""
    overrides = parse_params(profile, params)
    return PROFILES[profile]().configure(users=users, duration=duration, params=overrides)
