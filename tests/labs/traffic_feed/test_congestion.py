"""The world's congestion: one distribution for the generator and the traffic feed, read per route."""

from __future__ import annotations

import numpy as np
import pytest

from model_service import congestion, generator


def test_readings_follow_the_training_distribution_at_peak_and_off_peak() -> None:
    """A feed with its own idea of typical traffic would itself be a drift incident."""
    frame = generator.generate(20_000, seed=3)
    readings = np.array([congestion.reading(d, p) for d, p in zip(frame.distance_km, frame.is_peak_hour,
                                                                     strict=True)])
    for peak in (0, 1):
        mask = frame.is_peak_hour.to_numpy() == peak
        trained = np.quantile(frame.traffic_index[mask], [0.1, 0.25, 0.5, 0.75, 0.9])
        served = np.quantile(readings[mask], [0.1, 0.25, 0.5, 0.75, 0.9])
        assert np.allclose(served, trained, atol=0.15), (peak, served, trained)
    assert readings.min() >= 0.0 and readings.max() <= 10.0


def test_a_route_always_reads_the_same_and_routes_differ() -> None:
    assert congestion.reading(3.2, 1) == congestion.reading(3.2, 1) == congestion.reading(3.2, True)
    assert congestion.reading(3, 0) == congestion.reading(3.0, 0)  # 3 and 3.0 are one route (JSON ints)
    assert len({congestion.reading(d / 10, 0) for d in range(1, 200)}) > 150
    assert congestion.reading(3.2, 1) != congestion.reading(3.2, 0)


def test_peak_hour_shifts_the_distribution_up() -> None:
    assert congestion.quantile(0.5, 1) == pytest.approx(congestion.quantile(0.5, 0) + congestion.PEAK_BONUS)
    assert congestion.quantile(0.999, 1) == congestion.TRAFFIC_MAX  # clipped like the generator


@pytest.mark.parametrize("u", [0.0, 1.0, -0.1, 2.0])
def test_quantile_refuses_a_probability_outside_the_open_interval(u: float) -> None:
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        congestion.quantile(u, 0)
