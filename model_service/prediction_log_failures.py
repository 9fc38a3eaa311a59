"""Failed prediction-log writes as a few log lines an operator can act on, not one line per retry.

Why: the writer retries a failed commit every few hundred milliseconds for as long as the cause lasts (a lock
held by a backup, a full disk). Logging every attempt floods the log; logging none (issue 14, item 8) left
the runbook's "the service log shows the SQLite error" untrue. So each *kind* of failure (what was being
written and SQLite's error name, e.g. ``commit``/``SQLITE_BUSY``) is logged once per episode with SQLite's own
message, repeats are counted and summarised at most every ``REPEAT_S``, and the first success after a
failure ends the episode with one line saying how many attempts failed. ``aiops_prediction_log_write_errors_total``
still counts every attempt.
"""

from __future__ import annotations

import logging
import sqlite3
import time

log = logging.getLogger("aiops.service.prediction_log")

REPEAT_S = 300.0  # a failure that lasts is repeated in the log this often, with its count


def error_kind(exc: BaseException) -> str:
    """SQLite's error name (``SQLITE_BUSY``, ``SQLITE_FULL``, ``SQLITE_IOERR_WRITE`` ...): a bounded set."""
    return getattr(exc, "sqlite_errorname", None) or type(exc).__name__


class FailureReport:
    """The failures of the current episode, by kind; used by the writer thread only (no lock)."""

    def __init__(self) -> None:
        self._counts: dict[tuple[str, str], int] = {}
        self._summarised: dict[tuple[str, str], float] = {}  # per kind: a new kind does not delay the others
        self._errors: dict[str, str] = {}  # the last error of each failing ``what``, for /readyz

    def error(self, what: str) -> str | None:
        """The last error of ``what`` while its episode lasts: /readyz shows the failure that makes the log not
        ready (a failing commit), not whatever else failed last (a retention pass)."""
        return self._errors.get(what)

    def failed(self, what: str, exc: sqlite3.Error | OSError, rows_waiting: int) -> None:
        """One failed attempt to ``what`` (commit, retention, recover); logs only what is new."""
        kind = error_kind(exc)
        key = (what, kind)
        count = self._counts.get(key, 0) + 1
        self._counts[key] = count
        self._errors[what] = f"{what} failed: {exc} ({kind})"
        now = time.monotonic()
        if count == 1:
            self._summarised[key] = now
            log.error(f"prediction log {what} failed: {exc}; the rows are kept and retried",
                      extra={"sqlite_error": kind, "error": str(exc), "rows_waiting": rows_waiting})
        elif now - self._summarised.get(key, now) >= REPEAT_S:
            self._summarised[key] = now
            log.error(f"prediction log writes still failing: {self._describe()}",
                      extra={"sqlite_error": kind, "error": str(exc), "rows_waiting": rows_waiting})

    def succeeded(self, what: str) -> None:
        """``what`` worked: if its attempts had failed, say so once and start a new episode for it."""
        ended = {key: n for key, n in self._counts.items() if key[0] == what}
        if not ended:
            return
        for key in ended:
            del self._counts[key]
            self._summarised.pop(key, None)
        self._errors.pop(what, None)
        log.warning(f"prediction log {what} succeeds again after "
                    f"{', '.join(f'{n} failed attempts ({kind})' for (_, kind), n in ended.items())}",
                    extra={"failed_attempts": sum(ended.values())})

    def _describe(self) -> str:
        return ", ".join(f"{what} {kind} x{n}" for (what, kind), n in self._counts.items())
