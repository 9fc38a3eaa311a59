"""Every traffic shape produces the user curve its docstring promises, tick by tick."""

from __future__ import annotations

import pytest

from labs.load import shapes
from labs.load.profiles import TRAFFIC_PROFILES


def curve(shape: shapes.ProfileShape, times: list[float]) -> list[tuple[int, float] | None]:
    """Drive ``tick()`` with a controlled clock, as Locust's shape worker would once per second."""
    out = []
    for t in times:
        shape.get_run_time = lambda t=t: t  # type: ignore[method-assign]
        out.append(shape.tick())
    return out


def users(ticks: list[tuple[int, float] | None]) -> list[int | None]:
    return [None if t is None else t[0] for t in ticks]


def test_catalogue_and_shapes_agree() -> None:
    assert set(TRAFFIC_PROFILES) == set(shapes.PROFILES)
    for name, cls in shapes.PROFILES.items():
        assert cls.params == TRAFFIC_PROFILES[name].params
        for param in cls.params:
            assert isinstance(getattr(cls, param), float), f"{name}.{param} must be a documented class attribute"
            assert param in (cls.__doc__ or ""), f"{name}.{param} is not documented in the class docstring"


def test_steady_ramps_then_holds_then_stops() -> None:
    shape = shapes.build("steady", users=20, duration=30, params="ramp_seconds=5")
    got = users(curve(shape, [0, 1, 2, 3, 4, 5, 15, 29.9, 30]))
    assert got == [4, 8, 12, 16, 20, 20, 20, 20, None]


def test_steady_without_duration_runs_until_stopped() -> None:
    shape = shapes.build("steady", users=3)
    assert users(curve(shape, [0, 5, 3600, 86_400])) == [1, 3, 3, 3]


def test_ramp_climbs_linearly_then_holds_the_peak() -> None:
    shape = shapes.build("ramp", users=101, duration=100)  # ramp_fraction 0.8: climb for 80 s
    got = users(curve(shape, [0, 20, 40, 60, 80, 90, 99]))
    assert got == [1, 26, 51, 76, 101, 101, 101]
    assert curve(shape, [100]) == [None]


def test_spike_jumps_to_the_peak_within_one_tick_and_returns() -> None:
    shape = shapes.build("spike", users=50, duration=100)  # baseline 20%, spike from 40% for 20%
    ticks = curve(shape, [0, 39, 40, 41, 59, 60, 99, 100])
    assert users(ticks) == [10, 10, 50, 50, 50, 10, 10, None]
    # The spawn rate covers the whole jump, so Locust lands it within the next second both ways.
    assert ticks[2] == (50, 40.0)
    assert ticks[5] == (10, 40.0)


def test_spike_parameters_move_the_spike() -> None:
    shape = shapes.build("spike", users=10, duration=10, params="spike_at=0.5,spike_length=0.1,base_fraction=0.5")
    assert users(curve(shape, [4, 5, 6])) == [5, 10, 5]


def test_soak_ramps_gently_and_lasts_half_an_hour_by_default() -> None:
    shape = shapes.build("soak", users=60)
    got = users(curve(shape, [0, 29, 59, 600, 1799]))
    assert got == [1, 30, 60, 60, 60]
    assert curve(shape, [1800]) == [None]


def test_diurnal_follows_the_day_night_curve() -> None:
    shape = shapes.build("diurnal", users=100, params="day_seconds=240")  # one hour = 10 s
    hours = [0, 4, 8, 12, 15, 19, 23]
    got = users(curve(shape, [h * 10.0 for h in hours]))
    assert got == [round(100 * shapes.HOURLY_DEMAND[h]) for h in hours]
    assert max(got) == 100 and got[1] == 3  # lunch / dinner peak vs the 04:00 trough
    # Half past seven in the evening: halfway between 19:00 (1.00) and 20:00 (0.80).
    assert users(curve(shape, [195.0])) == [90]
    assert curve(shape, [240.0]) == [None]  # one compressed day unless a duration says otherwise


def test_diurnal_start_hour_and_longer_durations_repeat_the_day() -> None:
    shape = shapes.build("diurnal", users=100, duration=480, params="day_seconds=240,start_hour=12")
    assert users(curve(shape, [0, 240, 478])) == [100, 100, 95]  # 11:48 on day two: 0.75 -> 1.00


def test_diurnal_fits_one_day_into_the_run_by_default() -> None:
    shape = shapes.build("diurnal", users=100, duration=48)  # one hour = 2 s
    assert users(curve(shape, [0, 8, 24, 38])) == [10, 3, 100, 100]
    assert curve(shape, [48]) == [None]
    assert shapes.build("diurnal").stop_after() == 300.0  # no duration at all: a five-minute day


def test_users_never_drop_below_one() -> None:
    shape = shapes.build("diurnal", users=5, params="day_seconds=240")
    assert min(u for u in users(curve(shape, [t * 1.0 for t in range(240)])) if u is not None) == 1


def test_spawn_rate_is_reported_only_when_the_target_changes() -> None:
    shape = shapes.build("steady", users=10, duration=100, params="ramp_seconds=1")
    ticks = curve(shape, [0, 1, 2])
    assert ticks[0] == ticks[1] == ticks[2] == (10, 10.0)


@pytest.mark.parametrize("params", ["nope=1", "spike_at", "spike_at=soon", "spike_at=-1"])
def test_bad_shape_parameters_are_refused_with_the_valid_names(params: str) -> None:
    with pytest.raises(ValueError, match=r"spike_at|not a number|>= 0"):
        shapes.build("spike", params=params)


def test_reset_time_restarts_the_curve() -> None:
    shape = shapes.build("spike", users=50, duration=100)
    curve(shape, [50])
    shape.reset_time()
    assert curve(shape, [0]) == [(10, 10.0)]
