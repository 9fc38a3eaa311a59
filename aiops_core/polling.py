"""Poll with a deadline instead of sleeping and hoping.

Used by the launcher (waiting for health), the drill engine (waiting for a settled baseline) and the tests.
A check signals "not yet" by returning something falsy or raising an ordinary exception (a connection
refused while a process starts); it signals "this will never happen" by raising ``AssertionError`` (a
process that exited), which is re-raised at once instead of being waited out until the deadline.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class Timeout(AssertionError):
    """The deadline passed; the message names what was awaited and the last error seen."""


def wait_until(check: Callable[[], T], timeout: float = 30.0, interval: float = 0.1,
               what: str = "condition") -> T:
    """Call ``check`` until it returns a truthy value; ``Timeout`` naming ``what`` after ``timeout`` seconds.

    ``AssertionError`` from ``check`` propagates immediately: it means the wait is pointless.
    """
    deadline = time.monotonic() + timeout
    last_exc: Exception | None = None
    while True:
        try:
            value = check()
            if value:
                return value
        except AssertionError:
            raise
        except Exception as exc:  # not there yet; report the last error on timeout
            last_exc = exc
        if time.monotonic() >= deadline:
            break
        time.sleep(interval)
    raise Timeout(f"timed out after {timeout}s waiting for {what}"
                  + (f" (last error: {last_exc!r})" if last_exc else ""))
