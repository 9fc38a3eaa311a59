"""A circuit breaker for one upstream dependency: stop waiting for a provider that keeps failing.

Without it a hung provider costs every request that needs it the whole ``traffic_feed_timeout_ms`` (2 s by
default), even once the fallback serves a degraded answer -- the latency SLO burns while nothing is gained.
The breaker counts consecutive failed calls; at the threshold it *opens*: calls are not made at all and the
caller applies its fallback at once. After a cool-down it goes *half-open* and lets exactly one *probe*
call through; the probe's success *closes* it, its failure opens it again for another cool-down.

Pure state, no I/O and no metrics: the clock is injected (unit tests step it) and every transition is
reported to ``on_transition`` (the caller exports it). Not thread-safe on purpose: it lives on the event
loop, like the requests that consult it, so there is no lock on the hot path.

Results of calls that started in an earlier state are ignored. Every transition (and every reset) starts a
new *epoch*; ``decide`` hands the caller a ``Ticket`` carrying the epoch the call started in, and a result
reported with an older ticket changes nothing. Why the state alone is not enough: with a 2 s timeout and a
short cool-down, calls made against a hung provider before the breaker opened still time out after the
probe has closed it again -- the state is "closed" once more, and five stale timeouts would re-open it. And
a probe still in flight when the breaker is switched off (reset) must not re-open the breaker it no longer
belongs to.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal, NamedTuple

State = Literal["closed", "open", "half_open"]
STATES: tuple[State, ...] = ("closed", "open", "half_open")
Decision = Literal["call", "probe", "short_circuit"]


class Ticket(NamedTuple):
    """What ``decide`` said, and the epoch it said it in: the result of the call is reported with it."""

    decision: Decision
    epoch: int

    @property
    def probe(self) -> bool:
        return self.decision == "probe"


class CircuitBreaker:
    """Closed -> open after ``threshold`` consecutive failures -> half-open after ``cooldown_s`` -> one probe.

    Thresholds are passed on each call rather than fixed at construction: they are runtime flags, and a
    changed flag applies to the next request without rebuilding anything.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic,
                 on_transition: Callable[[State, State], None] | None = None) -> None:
        self._clock = clock
        self._on_transition = on_transition
        self.state: State = "closed"
        self.failures = 0  # consecutive, counted while closed
        self.opened_at = 0.0
        self.probing = False  # a probe is in flight (half-open admits one at a time)
        self.epoch = 0  # bumped on every transition and reset: results from an older epoch are stale

    def _move(self, new: State) -> None:
        old, self.state = self.state, new
        if old != new:
            self.epoch += 1
        if new == "open":
            self.opened_at = self._clock()
        if new != "half_open":
            self.probing = False
        if new == "closed":
            self.failures = 0
        if old != new and self._on_transition is not None:
            self._on_transition(old, new)

    def decide(self, cooldown_s: float) -> Ticket:
        """What to do with the next call: make it, make it as the probe, or skip it (short-circuit)."""
        if self.state == "open":
            if self._clock() - self.opened_at < cooldown_s:
                return Ticket("short_circuit", self.epoch)
            self._move("half_open")
        if self.state == "closed":
            return Ticket("call", self.epoch)
        if self.probing:
            return Ticket("short_circuit", self.epoch)
        self.probing = True
        return Ticket("probe", self.epoch)

    def _current(self, ticket: Ticket) -> bool:
        """The call started in the present epoch: its result still says something about this state."""
        return ticket.epoch == self.epoch

    def succeeded(self, ticket: Ticket) -> None:
        if not self._current(ticket):
            return
        if ticket.probe:
            self._move("closed")
        elif self.state == "closed":
            self.failures = 0

    def failed(self, ticket: Ticket, threshold: int) -> None:
        if not self._current(ticket):
            return
        if ticket.probe:
            self._move("open")
        elif self.state == "closed":
            self.failures += 1
            if self.failures >= threshold:
                self._move("open")

    def abandoned(self, ticket: Ticket) -> None:
        """A call ended without an answer either way (cancelled): the next call may probe instead."""
        if self._current(ticket) and ticket.probe and self.state == "half_open":
            self.probing = False

    def retry_in(self, cooldown_s: float) -> float:
        """Seconds until the next probe may run (0 when half-open): a 503's Retry-After."""
        if self.state != "open":
            return 0.0
        return max(0.0, cooldown_s - (self._clock() - self.opened_at))

    def reset(self) -> None:
        """Closed, counts cleared, a new epoch: the breaker was switched off (a later switch-on starts clean,
        and a probe or call still in flight cannot re-open it)."""
        self._move("closed")
        self.failures = 0
        self.epoch += 1
