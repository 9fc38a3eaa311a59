"""``wait_until`` polls with a deadline and gives up at once on an assertion."""

from __future__ import annotations

import time

import pytest

from aiops_core.polling import Timeout, wait_until


def test_returns_the_first_truthy_value_and_keeps_polling_through_ordinary_errors() -> None:
    calls = iter([ConnectionError("refused"), None, 0, "ready"])

    def check() -> object:
        value = next(calls)
        if isinstance(value, Exception):
            raise value
        return value

    assert wait_until(check, timeout=5, interval=0.001) == "ready"


def test_an_assertion_error_is_raised_at_once_not_waited_out() -> None:
    started = time.monotonic()
    with pytest.raises(AssertionError, match="process exited"):
        wait_until(lambda: (_ for _ in ()).throw(AssertionError("process exited")), timeout=30, interval=0.01)
    assert time.monotonic() - started < 5


def test_timeout_names_what_was_awaited_and_the_last_error() -> None:
    def refused() -> bool:
        raise ConnectionError("refused")

    with pytest.raises(Timeout, match=r"waiting for the pager .*ConnectionError\('refused'\)"):
        wait_until(refused, timeout=0.05, interval=0.01, what="the pager")


def test_the_check_runs_at_least_once_even_with_no_time_left() -> None:
    """A deadline already spent (a slow machine used it up elsewhere) still looks once before failing."""
    assert wait_until(lambda: "there", timeout=0) == "there"
