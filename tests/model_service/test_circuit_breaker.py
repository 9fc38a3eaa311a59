"""The circuit breaker's state machine, stepped with an injected clock (the real feed is in
tests/model_service/integration/test_feature_lookup.py)."""

from __future__ import annotations

from model_service.circuit_breaker import CircuitBreaker, State, Ticket

COOLDOWN = 5.0


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def breaker() -> tuple[CircuitBreaker, Clock, list[tuple[State, State]]]:
    clock, moves = Clock(), []
    return CircuitBreaker(clock, lambda old, new: moves.append((old, new))), clock, moves


def fail_once(b: CircuitBreaker, threshold: int) -> None:
    """One call made now that fails now (no other transition in between)."""
    b.failed(b.decide(COOLDOWN), threshold=threshold)


def test_it_opens_after_the_threshold_of_consecutive_failures_only() -> None:
    b, _, moves = breaker()
    fail_once(b, 3)
    fail_once(b, 3)
    b.succeeded(b.decide(COOLDOWN))  # not consecutive any more
    fail_once(b, 3)
    fail_once(b, 3)
    assert (b.state, b.decide(COOLDOWN).decision) == ("closed", "call")
    fail_once(b, 3)
    assert b.state == "open" and moves == [("closed", "open")]


def test_open_skips_calls_until_the_cooldown_then_admits_one_probe() -> None:
    b, clock, moves = breaker()
    fail_once(b, 1)
    assert b.decide(COOLDOWN).decision == "short_circuit"
    assert b.retry_in(COOLDOWN) == COOLDOWN
    clock.now += COOLDOWN - 0.01
    assert b.decide(COOLDOWN).decision == "short_circuit"
    clock.now += 0.01
    assert b.decide(COOLDOWN).decision == "probe"
    assert b.state == "half_open" and b.retry_in(COOLDOWN) == 0.0
    assert b.decide(COOLDOWN).decision == "short_circuit", "a second probe while the first is in flight"
    assert moves == [("closed", "open"), ("open", "half_open")]


def test_a_successful_probe_closes_and_a_failed_one_reopens_for_a_new_cooldown() -> None:
    b, clock, moves = breaker()
    fail_once(b, 1)
    clock.now += COOLDOWN
    probe = b.decide(COOLDOWN)
    assert probe.decision == "probe"
    b.failed(probe, threshold=1)
    assert b.state == "open" and b.retry_in(COOLDOWN) == COOLDOWN
    clock.now += COOLDOWN
    probe = b.decide(COOLDOWN)
    assert probe.decision == "probe"
    b.succeeded(probe)
    assert (b.state, b.failures, b.decide(COOLDOWN).decision) == ("closed", 0, "call")
    assert [new for _, new in moves] == ["open", "half_open", "open", "half_open", "closed"]


def test_late_answers_of_calls_made_before_it_opened_change_nothing() -> None:
    b, clock, _ = breaker()
    slow = b.decide(COOLDOWN)  # started while closed, answers after the breaker opened
    fail_once(b, 1)
    b.succeeded(slow)
    assert b.state == "open"
    clock.now += COOLDOWN
    probe = b.decide(COOLDOWN)
    assert probe.decision == "probe"
    b.failed(slow, threshold=1)  # a stale timeout: only the probe decides while half-open
    assert b.state == "half_open"
    b.succeeded(probe)
    assert b.state == "closed"


def test_stale_timeouts_after_the_probe_closed_it_do_not_reopen_it() -> None:
    """The finding: with a 2 s timeout and a short cool-down, requests in flight against the hung feed before
    it opened time out after the probe has closed it again; the state is "closed" once more, yet they must
    not count (they said nothing about the provider since the probe answered)."""
    threshold = 5
    b, clock, moves = breaker()
    in_flight = [b.decide(COOLDOWN) for _ in range(threshold)]
    for _ in range(threshold):
        fail_once(b, threshold)
    assert b.state == "open"
    clock.now += COOLDOWN
    probe = b.decide(COOLDOWN)
    b.succeeded(probe)
    assert b.state == "closed"
    for ticket in in_flight:
        b.failed(ticket, threshold=threshold)
    assert (b.state, b.failures) == ("closed", 0)
    assert [new for _, new in moves] == ["open", "half_open", "closed"]
    fail_once(b, threshold)  # a failure of a call made after the probe closed it counts again
    assert b.failures == 1


def test_a_probe_in_flight_when_it_is_switched_off_cannot_reopen_it() -> None:
    """publish_flags (every scrape) and fill reset a switched-off breaker; the probe still running must not
    re-open it: no spurious transition, no counter bump, and a switch-on later starts closed."""
    b, clock, moves = breaker()
    fail_once(b, 1)
    clock.now += COOLDOWN
    probe = b.decide(COOLDOWN)
    assert probe.decision == "probe"
    b.reset()
    b.failed(probe, threshold=1)
    b.reset()  # the next scrape resets again: still no transition
    assert (b.state, b.probing) == ("closed", False)
    assert [new for _, new in moves] == ["open", "half_open", "closed"]
    assert b.decide(COOLDOWN) == Ticket("call", b.epoch)


def test_an_abandoned_probe_lets_the_next_call_probe() -> None:
    b, clock, _ = breaker()
    fail_once(b, 1)
    clock.now += COOLDOWN
    probe = b.decide(COOLDOWN)
    assert probe.decision == "probe"
    b.abandoned(probe)
    assert (b.state, b.decide(COOLDOWN).decision) == ("half_open", "probe")


def test_reset_closes_and_reports_the_transition() -> None:
    b, _, moves = breaker()
    fail_once(b, 1)
    b.reset()
    assert (b.state, b.failures, moves[-1]) == ("closed", 0, ("open", "closed"))
