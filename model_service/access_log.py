"""The access log: one JSON line per request, written in batches by a background thread.

Why not ``logging``: building a LogRecord, formatting it and a line-buffered write (one syscall) per
request cost ~50 µs -- about a fifth of a single-row /predict. Here the request path formats one string and
appends it to a list; a thread writes whatever accumulated every ``flush_s``. Lines carry their own
timestamp, so a reader can merge them with the other logs; ``close()`` writes everything left on shutdown.

Even that one string was 5 % of a single-row /predict under py-spy (issue 18): ``datetime.isoformat`` and
``json.dumps`` per request. The timestamp's date and time are now formatted once per second, and the path
goes through ``json.dumps`` only when it holds a character JSON must escape -- the same text either way.

While no request comes, the thread sleeps until the first line arrives (then ``flush_s`` more, so lines are
still written in batches) instead of waking every ``flush_s``: five wake-ups a second were a third of an idle
service's CPU (benchmarks/PROFILE.md, "Idle lab"). ``IDLE_CHECK_S`` bounds the wait if a wake-up is missed.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from datetime import UTC, datetime
from typing import IO

IDLE_CHECK_S = 1.0  # the longest a line can wait if its wake-up was missed (see ``_run``)


def json_string(text: str) -> str:
    """``json.dumps(text)``, without the call for the usual path: printable ASCII with no quote or backslash."""
    if text.isascii() and text.isprintable() and '"' not in text and "\\" not in text:
        return f'"{text}"'
    return json.dumps(text)


class AccessLog:
    def __init__(self, stream: IO[str] | None = None, flush_s: float = 0.2) -> None:
        self._stream = stream or sys.stdout
        self._lines: list[str] = []
        self._second = -1  # the whole second _prefix was formatted for
        self._prefix = ""
        self._flush_s = flush_s
        self._stop = threading.Event()
        self._arrived = threading.Event()  # a line went into an empty list
        self._thread = threading.Thread(target=self._run, name="access-log", daemon=True)
        self._thread.start()

    def record(self, request_id: str, method: str, path: str, route: str, status: int, duration_s: float) -> None:
        now = time.time()
        second = int(now)
        if second != self._second:
            self._prefix = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
            self._second = second
        # As datetime.now(UTC).isoformat(timespec="milliseconds") writes it.
        ts = f"{self._prefix}.{int((now - second) * 1000):03d}+00:00"
        if not self._lines:
            self._arrived.set()
        # request_id is validated against [A-Za-z0-9._:-]; only the path can need escaping.
        self._lines.append(
            f'{{"ts": "{ts}", "level": "info", "logger": "aiops.access", "msg": "request", '
            f'"request_id": "{request_id}", "method": "{method}", "path": {json_string(path)}, '
            f'"route": "{route}", "status": {status}, "duration_ms": {duration_s * 1000:.3f}}}\n')

    def flush(self) -> None:
        lines, self._lines = self._lines, []  # swapping a list is atomic under the GIL
        if lines:
            try:
                self._stream.write("".join(lines))
                self._stream.flush()
            except (OSError, ValueError):  # stdout closed (e.g. a detached terminal): drop, never crash
                pass

    def _run(self) -> None:
        while not self._stop.is_set():
            # Idle: wait for a line. A record can look at the old list just before ``flush`` swaps it, then
            # append to the new, empty one without setting the event: that line waits at most IDLE_CHECK_S.
            if not self._lines and not self._arrived.wait(IDLE_CHECK_S) and not self._lines:
                continue
            if self._stop.wait(self._flush_s):
                return
            self._arrived.clear()
            self.flush()

    def close(self) -> None:
        self._stop.set()
        self._arrived.set()
        self._thread.join(timeout=5)
        self.flush()
