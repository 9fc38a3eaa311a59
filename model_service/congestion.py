"""Road congestion in the lab's world: how ``traffic_index`` is distributed, and what a route reads now.

The data generator draws traffic from this distribution, and the traffic feed (``labs/traffic_feed``)
answers lookups with readings from it. One definition on purpose: a provider whose idea of "typical
traffic" differed from the training data would be a drift incident of its own, not a dependency.

Pure Python (no numpy, no pandas): the traffic feed imports it and is meant to stay a small process.
"""

from __future__ import annotations

import bisect
import functools
import hashlib

from model_service.features import FEATURES_BY_NAME

# Congestion before scaling is Beta(2, 3): mostly moderate, rarely empty or gridlocked.
TRAFFIC_BETA: tuple[float, float] = (2.0, 3.0)
TRAFFIC_SCALE = 10.0
PEAK_BONUS = 1.5  # lunch and dinner peaks add this many index points
TRAFFIC_MAX = FEATURES_BY_NAME["traffic_index"].maximum
_GRID = 4096


@functools.cache
def _cdf_table() -> tuple[list[float], list[float]]:
    """(x, CDF(x)) of the Beta distribution on a fine grid, by the trapezoid rule (built once, ~2 ms)."""
    a, b = TRAFFIC_BETA
    xs = [i / _GRID for i in range(_GRID + 1)]
    pdf = [x ** (a - 1) * (1 - x) ** (b - 1) for x in xs]
    cdf, total = [0.0], 0.0
    for i in range(1, len(xs)):
        total += (pdf[i - 1] + pdf[i]) / 2
        cdf.append(total)
    return xs, [c / total for c in cdf]


def quantile(u: float, is_peak_hour: int) -> float:
    """The ``u``-quantile (0 < u < 1) of traffic_index off-peak (0) or at peak (1)."""
    if not 0.0 < u < 1.0:
        raise ValueError(f"u must be strictly between 0 and 1, got {u}")
    xs, cdf = _cdf_table()
    i = bisect.bisect_left(cdf, u)
    lo, hi = cdf[i - 1], cdf[i]
    x = xs[i - 1] + (xs[i] - xs[i - 1]) * ((u - lo) / (hi - lo) if hi > lo else 0.0)
    return min(max(x * TRAFFIC_SCALE + PEAK_BONUS * is_peak_hour, 0.0), TRAFFIC_MAX)


def reading(distance_km: float, is_peak_hour: int) -> float:
    """What a traffic provider measures for a delivery route right now (rounded like a real feed, 0.01).

    Deterministic per route -- a hash of the route picks the quantile -- so the same route always reads
    the same, readings across many routes follow the training distribution, and the lab's traffic can
    compute the ground truth of an order whose traffic_index the service looked up.
    """
    key = f"{float(distance_km)!r}|{int(is_peak_hour)}".encode()
    h = int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big")
    return round(quantile((h + 0.5) / 2**64, int(is_peak_hour)), 2)
