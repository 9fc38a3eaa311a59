"""Run Locust headless as a child process and hand back its progress and final numbers.

A subprocess rather than Locust's library API: Locust monkey-patches the whole interpreter with gevent on
import, and a crash or a hung greenlet in a load generator must not take the CLI (or a drill engine) with
it. The locustfile writes a progress file every second and an exact summary at quit (``reporting.py``);
Locust itself writes its CSV files and HTML report into the same directory.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiops_core import paths

LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"
STOP_TIMEOUT_S = 10  # let users finish the request in flight, so both sides count the same requests
START_GRACE_S = 60  # start-up plus shutdown allowance on top of the run's duration


@dataclass
class LoadRun:
    """One headless Locust run: what to send, to whom, for how long, and where the files go."""

    host: str
    out_dir: Path
    profile: str = "steady"
    data: str = "normal"
    users: int = 10
    duration_s: float = 60.0
    shape_params: str = ""
    feedback_delay_s: float = 5.0
    feedback_ratio: float = 0.5
    batch_size: int = 10
    think_scale: float = 1.0
    seed: int | None = None
    reset_stats: bool = False  # drop the ramp-up from the numbers (capacity steps)
    html: bool = True
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def progress_file(self) -> Path:
        """Rewritten every second while Locust runs: what the CLI's progress line reads."""
        return self.out_dir / "progress.json"

    @property
    def summary_file(self) -> Path:
        """Written once at the end: the numbers the thresholds and reports are judged on."""
        return self.out_dir / "summary.json"

    @property
    def log_file(self) -> Path:
        """Locust's own output, kept for when a run fails to start."""
        return self.out_dir / "locust.log"

    def command(self) -> list[str]:
        args = [
            sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--host", self.host,
            "--users", str(self.users), "--run-time", f"{self.duration_s:g}s",
            "--shape", self.profile, "--shape-params", self.shape_params, "--data", self.data,
            "--feedback-delay", f"{self.feedback_delay_s:g}", "--feedback-ratio", f"{self.feedback_ratio:g}",
            "--batch-size", str(self.batch_size), "--think-scale", f"{self.think_scale:g}",
            "--seed", str(-1 if self.seed is None else self.seed),
            "--stop-timeout", str(STOP_TIMEOUT_S), "--only-summary",
            "--progress-file", str(self.progress_file), "--summary-file", str(self.summary_file),
            "--csv", str(self.out_dir / "locust"), "--csv-full-history",
        ]
        if self.html:
            args += ["--html", str(self.out_dir / "report.html")]
        if self.reset_stats:
            args.append("--reset-stats")
        return args


@dataclass
class RunResult:
    returncode: int | None
    summary: dict[str, Any] | None
    out_dir: Path
    interrupted: bool = False

    def log_tail(self, lines: int = 8) -> str:
        path = self.out_dir / "locust.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.strip().splitlines()[-lines:])


def new_report_dir(kind: str, root: Path | None = None) -> Path:
    """``<reports>/load/<UTC timestamp>-<kind>/``, unique even for two runs in the same second."""
    base = (root or paths.reports_dir()) / "load"
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    for n in range(1000):
        candidate = base / (f"{stamp}-{kind}" if n == 0 else f"{stamp}-{kind}-{n}")
        try:
            candidate.mkdir(parents=True, exist_ok=False)
            return candidate
        except FileExistsError:
            continue
    raise RuntimeError(f"cannot create a report directory under {base}")


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


@contextmanager
def _stop_child_on_signals(proc: subprocess.Popen) -> Iterator[None]:
    """SIGTERM to the CLI becomes SIGINT to Locust, which then still writes its reports before exiting."""

    def forward(signum: int, frame: Any) -> None:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, forward)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _finish(proc: subprocess.Popen, timeout: float) -> None:
    """Ask Locust to stop (SIGINT: reports are written), then insist."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


def run(spec: LoadRun, on_progress: Callable[[dict[str, Any]], None] | None = None,
        poll_s: float = 0.5) -> RunResult:
    """Run Locust until the shape ends (bounded by duration + grace); Ctrl-C stops it cleanly."""
    spec.out_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **spec.extra_env}
    deadline = time.monotonic() + spec.duration_s + STOP_TIMEOUT_S + START_GRACE_S
    interrupted = False
    with spec.log_file.open("ab") as log:
        proc = subprocess.Popen(spec.command(), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=env, cwd=paths.REPO_ROOT, start_new_session=True)
        try:
            with _stop_child_on_signals(proc):
                while proc.poll() is None:
                    if time.monotonic() > deadline:
                        _finish(proc, STOP_TIMEOUT_S + 10)
                        break
                    if on_progress is not None:
                        snapshot = read_json(spec.progress_file)
                        if snapshot is not None:
                            on_progress(snapshot)
                    time.sleep(poll_s)
        except KeyboardInterrupt:
            interrupted = True
            _finish(proc, STOP_TIMEOUT_S + 10)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
    if on_progress is not None:  # Locust wrote its final numbers at quit: the last line shows them
        snapshot = read_json(spec.progress_file)
        if snapshot is not None:
            on_progress(snapshot)
    return RunResult(proc.returncode, read_json(spec.summary_file), spec.out_dir, interrupted)


def ui_command(host: str, port: int, profile: str, data: str, users: int, duration_s: float | None,
               shape_params: str = "") -> list[str]:
    """Locust's web UI on loopback only: anyone who can reach it can point load at any host."""
    args = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--host", host,
            "--web-host", "127.0.0.1", "--web-port", str(port), "--users", str(users),
            "--shape", profile, "--shape-params", shape_params, "--data", data, "--stop-timeout", str(STOP_TIMEOUT_S)]
    if duration_s is not None:
        args += ["--run-time", f"{duration_s:g}s"]
    return args


def run_foreground(args: list[str]) -> int:
    """Run Locust attached to this terminal until it exits or the user stops it; returns its exit code."""
    proc = subprocess.Popen(args, cwd=paths.REPO_ROOT, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        with _stop_child_on_signals(proc):
            return proc.wait()
    except KeyboardInterrupt:
        _finish(proc, STOP_TIMEOUT_S + 10)
        return 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
