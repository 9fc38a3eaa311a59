"""The service's one upstream dependency on the request path: traffic_index looked up in the traffic feed.

Some clients (the mobile app) cannot see road traffic, so they omit ``traffic_index`` and the service asks
the traffic feed for it -- one call per request, for all of its rows. That call is where a dependency
incident enters: a slow provider makes /predict slow, a dead one makes it fail. Two runtime flags decide how
much of that reaches users: ``traffic_feed_timeout_ms`` (how long to wait) and ``traffic_feed_fallback``
(``fail``: a 503 naming the dependency; ``impute``: serve the rows with the feature missing). Rows that carry
``traffic_index`` never touch any of this.

Why httpx's own timeouts and not a deadline that cancels the call: cancelling an in-flight request can leak
a connection slot in httpcore's pool (encode/httpcore#1093), and a leaked pool turns a provider that has
recovered into a service that still times out. The timeout applies to each phase (connect, send, wait for
the answer); on the lab's network connecting and sending are immediate, so it is the wait for the answer.

A timeout bounds the wait, but a hung provider still costs every such request the whole timeout, fallback
or not. The circuit breaker (``circuit_breaker.py``, flags ``traffic_feed_breaker_*``, off by default) stops
calling a provider after consecutive failures: the fallback then applies at once. Its half-open probe runs
in the background on behalf of the request that triggered it, which is served the fallback without waiting:
no user pays the timeout to find out whether the provider is back.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from typing import Literal

import httpx

from aiops_core import http as lab_http
from model_service import metrics
from model_service.circuit_breaker import CircuitBreaker, State, Ticket
from model_service.errors import ApiError
from model_service.features import FEATURE_NAMES, FEATURES
from model_service.runtime_config import RuntimeConfig

_LOOKED_UP = next(f for f in FEATURES if f.lookup)
DEPENDENCY = _LOOKED_UP.lookup or ""
FEATURE = _LOOKED_UP.name
INDEX = FEATURE_NAMES.index(FEATURE)
# What identifies a route for the provider: how long it is, and whether it is driven at peak time.
_DISTANCE, _PEAK = FEATURE_NAMES.index("distance_km"), FEATURE_NAMES.index("is_peak_hour")
LOOKUP_PATH = "/v1/traffic-index"
_ENCODER = json.JSONEncoder(separators=(",", ":"))
log = logging.getLogger("aiops.service")


class LookupFailed(Exception):
    """The feed gave no usable answer; ``outcome`` is the metric label (timeout or error)."""

    def __init__(self, outcome: Literal["timeout", "error"], message: str) -> None:
        super().__init__(message)
        self.outcome = outcome


class TrafficFeedClient:
    """One pooled HTTP client for the process: no connection set-up per request, and a bounded pool; and the
    provider's circuit breaker, with the background probes it runs while half-open.

    ``trust_env=False``: an HTTP(S)_PROXY in the environment must not route lab-internal calls elsewhere.
    """

    def __init__(self, base_url: str, max_connections: int = 100) -> None:
        self.base_url = base_url
        self._client = lab_http.new_async_client(
            base_url=base_url, headers={"user-agent": "aiops-model-service"},
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=20))
        self.breaker = CircuitBreaker(on_transition=_export_transition)
        self._probes: set[asyncio.Task[None]] = set()  # strong references: the loop keeps only weak ones

    async def close(self) -> None:
        for task in self._probes:
            task.cancel()
        await asyncio.gather(*self._probes, return_exceptions=True)
        await self._client.aclose()

    def start_probe(self, ticket: Ticket, routes: list[tuple[float, int]], timeout_s: float, threshold: int) -> None:
        """The half-open probe, in the background: its outcome closes or re-opens the breaker (unless the
        breaker moved on meanwhile, e.g. was switched off: ``ticket`` carries the epoch it was started in)."""
        task = asyncio.get_running_loop().create_task(self._probe(ticket, routes, timeout_s, threshold))
        self._probes.add(task)
        task.add_done_callback(self._probes.discard)

    async def _probe(self, ticket: Ticket, routes: list[tuple[float, int]], timeout_s: float,
                     threshold: int) -> None:
        try:
            await self.lookup(routes, timeout_s)
        except LookupFailed:
            self.breaker.failed(ticket, threshold=threshold)
        except asyncio.CancelledError:
            self.breaker.abandoned(ticket)
            raise
        except Exception:  # a bug must not leave the breaker half-open forever
            log.exception("traffic-feed probe failed unexpectedly")
            self.breaker.failed(ticket, threshold=threshold)
        else:
            self.breaker.succeeded(ticket)

    async def lookup(self, routes: list[tuple[float, int]], timeout_s: float) -> list[float]:
        """traffic_index for each (distance_km, is_peak_hour); raises ``LookupFailed``. Always counted."""
        body = _ENCODER.encode({"routes": [{"distance_km": d, "is_peak_hour": p} for d, p in routes]})
        started = time.perf_counter()
        outcome = "error"
        try:
            resp = await self._client.post(LOOKUP_PATH, content=body, timeout=httpx.Timeout(timeout_s),
                                           headers={"content-type": "application/json"})
            values = _parse(resp, len(routes))
            outcome = "ok"
            return values
        except httpx.TimeoutException:
            outcome = "timeout"
            raise LookupFailed("timeout", f"{DEPENDENCY} did not answer within {timeout_s * 1000:.0f} ms") from None
        except httpx.HTTPError as exc:
            raise LookupFailed("error", f"{DEPENDENCY} is unreachable ({type(exc).__name__})") from None
        finally:
            metrics.DEPENDENCY_REQUESTS.labels(DEPENDENCY, outcome).inc()
            metrics.DEPENDENCY_DURATION.labels(DEPENDENCY).observe(time.perf_counter() - started)


def _export_transition(old: State, new: State) -> None:
    metrics.BREAKER_STATE.labels(DEPENDENCY, old).set(0.0)
    metrics.BREAKER_STATE.labels(DEPENDENCY, new).set(1.0)
    metrics.BREAKER_TRANSITIONS.labels(DEPENDENCY, new).inc()
    log.warning("circuit breaker changed state", extra={"dependency": DEPENDENCY, "from": old, "to": new})


def _parse(resp: httpx.Response, expected: int) -> list[float]:
    """The feed's answer, checked: an upstream is an input like any other and may be wrong."""
    if resp.status_code != 200:
        raise LookupFailed("error", f"{DEPENDENCY} answered HTTP {resp.status_code}")
    try:
        values = resp.json()["traffic_index"]
    except (ValueError, KeyError, TypeError):
        raise LookupFailed("error", f"{DEPENDENCY} sent a malformed answer") from None
    spec = _LOOKED_UP
    ok = (isinstance(values, list) and len(values) == expected
          and all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
                  and spec.minimum <= v <= spec.maximum for v in values))
    if not ok:
        raise LookupFailed("error", f"{DEPENDENCY} sent {FEATURE} values that are missing or out of range")
    return [float(v) for v in values]


def omitted_rows(records: tuple | list, rows: list[list[float | None]]) -> list[int]:
    """Indices of rows whose client left the looked-up feature out (an explicit null is not a lookup)."""
    return [i for i, row in enumerate(rows) if row[INDEX] is None and FEATURE not in records[i].model_fields_set]


async def fill(feed: TrafficFeedClient, rows: list[list[float | None]], omitted: list[int],
               flags: RuntimeConfig) -> None:
    """Look the feature up for ``omitted`` rows in place; on failure apply the configured fallback.

    ``fail`` raises a 503 naming the dependency (with Retry-After: the provider may be back soon);
    ``impute`` leaves the rows at ``None``, which the model imputes and counts as missing. With the circuit
    breaker on and open, the fallback applies without calling the feed at all.
    """
    routes = [(float(rows[i][_DISTANCE]), int(rows[i][_PEAK])) for i in omitted]  # type: ignore[arg-type]
    timeout_s = flags.traffic_feed_timeout_ms / 1000.0
    breaker = feed.breaker
    cooldown_s = flags.traffic_feed_breaker_cooldown_ms / 1000.0
    ticket: Ticket | None = None  # None: the breaker is off and hears nothing of this call
    if not flags.traffic_feed_breaker_enabled:
        if breaker.state != "closed":  # switched off while open: forget it, call the feed as before
            breaker.reset()
    else:
        ticket = breaker.decide(cooldown_s)
    if ticket is None or ticket.decision == "call":
        try:
            values = await feed.lookup(routes, timeout_s)
        except LookupFailed as exc:
            if ticket is not None:
                breaker.failed(ticket, threshold=flags.traffic_feed_breaker_failures)
            _fall_back(flags, str(exc), retry_after_s=1.0)
            return
        if ticket is not None:
            breaker.succeeded(ticket)
        for i, value in zip(omitted, values, strict=True):
            rows[i][INDEX] = value
        return
    if ticket.probe:
        feed.start_probe(ticket, routes, timeout_s, flags.traffic_feed_breaker_failures)
    metrics.BREAKER_SHORT_CIRCUITS.labels(DEPENDENCY).inc()
    _fall_back(flags, f"{DEPENDENCY} is not called: its circuit breaker opened after "
               f"{flags.traffic_feed_breaker_failures} consecutive failed lookups",
               retry_after_s=breaker.retry_in(cooldown_s))


def _fall_back(flags: RuntimeConfig, reason: str, retry_after_s: float) -> None:
    """Apply ``traffic_feed_fallback``: return (impute: the rows stay ``None``) or raise the 503."""
    metrics.DEPENDENCY_FALLBACKS.labels(DEPENDENCY, flags.traffic_feed_fallback).inc()
    if flags.traffic_feed_fallback == "impute":
        return
    message = (f"{FEATURE}: the request omitted it and its lookup failed: {reason}; send {FEATURE} "
               "with the request, or retry later")
    raise ApiError(503, message, [{"field": FEATURE, "rule": "dependency_unavailable", "message": reason}],
                   headers={"Retry-After": str(max(1, math.ceil(retry_after_s)))}) from None
