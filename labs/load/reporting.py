"""Inside the Locust process: a live progress file and an exact end-of-run summary for ``aiops-lab load``.

Locust's own CSV files are flushed every few seconds and rewritten on a timer, so their last rows can lag the
end of the run; the CLI needs a progress view that is at most a second old and final numbers that include
the very last request. Both files are replaced atomically so a reader never sees half a JSON document.
"""

from __future__ import annotations

import json
import time
from collections import deque
from pathlib import Path
from typing import Any

import gevent
from locust.env import Environment
from locust.stats import StatsEntry

from aiops_core.atomic import atomic_write

PROGRESS_INTERVAL_S = 1.0


def _write(path: Path, data: dict[str, Any]) -> None:
    atomic_write(path, json.dumps(data, indent=1))


def entry_summary(entry: StatsEntry) -> dict[str, Any]:
    """One request name's totals; percentiles in milliseconds as Locust computes them."""
    n = entry.num_requests
    return {
        "method": entry.method or "",
        "name": entry.name,
        "requests": n,
        "failures": entry.num_failures,
        "failure_ratio": entry.num_failures / n if n else 0.0,
        "rps": entry.total_rps,
        "avg_ms": entry.avg_response_time,
        "p50_ms": entry.get_response_time_percentile(0.5) if n else 0,
        "p95_ms": entry.get_response_time_percentile(0.95) if n else 0,
        "p99_ms": entry.get_response_time_percentile(0.99) if n else 0,
        "max_ms": entry.max_response_time or 0,
    }


class ProgressTracker:
    """The progress line's numbers: the run so far, counted as the summary counts it, and the rate now.

    ``rps`` and ``p95_ms`` are Locust's own totals (``total_rps``: requests / (last request - start), failures
    included), the very numbers ``final_summary`` reports, so the last progress line and the summary agree.
    They used to be a 5-second rate and Locust's 10-second percentile: the last line showed the rate after the
    ramp-up (e.g. 81 rps) and the summary the whole run's average (68 rps), both labelled "rps".
    ``current_rps`` is the rate over the last few seconds, from successive request totals (Locust's
    ``current_rps`` leaves out the latest two seconds, which reads as zero for most of a short run).
    """

    def __init__(self, env: Environment, window_s: float = 5.0) -> None:
        self.env = env
        self.window_s = window_s
        self.started = time.monotonic()
        self._samples: deque[tuple[float, int]] = deque()

    def snapshot(self) -> dict[str, Any]:
        total = self.env.stats.total
        now = time.monotonic()
        if self._samples and total.num_requests < self._samples[-1][1]:
            self._samples.clear()  # the statistics were reset (--reset-stats): a new run starts here
        self._samples.append((now, total.num_requests))
        while len(self._samples) > 2 and now - self._samples[0][0] > self.window_s:
            self._samples.popleft()
        (t0, n0), (t1, n1) = self._samples[0], self._samples[-1]
        run = entry_summary(total)
        return {
            "elapsed_s": now - self.started,
            "users": self.env.runner.user_count if self.env.runner is not None else 0,
            "rps": run["rps"],
            "current_rps": (n1 - n0) / (t1 - t0) if t1 > t0 else 0.0,
            "requests": run["requests"],
            "failures": run["failures"],
            "p95_ms": run["p95_ms"],
        }


def final_summary(env: Environment, started: float, exit_code: int | None) -> dict[str, Any]:
    stats = env.stats
    entries = [entry_summary(e) for e in sorted(stats.entries.values(), key=lambda e: (e.name, e.method or ""))]
    return {
        "elapsed_s": time.monotonic() - started,
        "exit_code": exit_code,
        "entries": entries,
        "total": entry_summary(stats.total),
        "errors": [{"method": e.method, "name": e.name, "error": str(e.error), "occurrences": e.occurrences}
                   for e in stats.errors.values()],
    }


def attach(env: Environment, progress_file: str | None, summary_file: str | None) -> None:
    """Start the progress writer and register the summary writer (no-ops when the paths are empty)."""
    started = time.monotonic()
    tracker = ProgressTracker(env)
    progress = Path(progress_file) if progress_file else None
    if progress is not None:

        def loop() -> None:
            while True:
                _write(progress, tracker.snapshot())
                gevent.sleep(PROGRESS_INTERVAL_S)

        gevent.spawn(loop)
    if summary_file:
        out = Path(summary_file)

        # ``quit`` fires after the runner stopped every user: nothing can be missing from these numbers.
        def on_quit(exit_code: int, **_: Any) -> None:
            _write(out, final_summary(env, started, exit_code))
            if progress is not None:  # the last progress line shows the final numbers, not a second-old view
                _write(progress, tracker.snapshot())

        env.events.quit.add_listener(on_quit)
