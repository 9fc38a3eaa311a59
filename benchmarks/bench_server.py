"""A server process for a benchmark (pinned to a core when possible, ready when /healthz answers, always
stopped), and wrk to load it (one thread, POSTing a JSON file through benchmarks/post.lua)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil

from aiops_core import http as lab_http

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


class BenchError(SystemExit):
    """A precondition is missing; the message says how to fix it."""

    def __init__(self, message: str) -> None:
        super().__init__(f"benchmark: {message}")


def pinning() -> tuple[list[str], list[str]]:
    """taskset prefixes for (server, load generator), or none when pinning is impossible."""
    taskset = shutil.which("taskset")
    if taskset is None or (os.cpu_count() or 1) < 2:
        print("note: taskset unavailable or a single CPU: server and load generator are not pinned")
        return [], []
    return [taskset, "-c", "0"], [taskset, "-c", "1"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    url: str
    process: psutil.Process

    def cpu_seconds(self) -> float:
        times = self.process.cpu_times()
        return times.user + times.system

    def cpu_by_thread(self) -> tuple[float, float]:
        """CPU seconds of (the main thread: the event loop, every other thread: e.g. the log writer)."""
        main = other = 0.0
        for t in self.process.threads():
            if t.id == self.process.pid:
                main += t.user_time + t.system_time
            else:
                other += t.user_time + t.system_time
        return main, other


# How long a server may take to answer /healthz: 60 s is plenty on a quiet machine; the test suite's smoke runs
# stretch it with the machine's measured load (tests/benchmarks/conftest.py).
START_TIMEOUT_S = float(os.environ.get("AIOPS_BENCH_START_TIMEOUT_S", "60"))


@contextmanager
def server(args: list[str], env: dict[str, str], port: int, log: Path) -> Iterator[Server]:
    """Start a server process, wait for /healthz, yield it, always stop it (SIGTERM, then SIGKILL)."""
    with log.open("wb") as out:
        proc = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=REPO)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + START_TIMEOUT_S
            while True:
                if proc.poll() is not None:
                    raise BenchError(f"server exited during start-up; see {log}:\n{log.read_text()[-2000:]}")
                try:
                    if lab_http.get(url + "/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise BenchError(f"server did not answer /healthz within {START_TIMEOUT_S:g} s "
                                     f"(AIOPS_BENCH_START_TIMEOUT_S); see {log}")
                time.sleep(0.1)
            yield Server(url, psutil.Process(proc.pid))  # taskset execs: same pid
        finally:
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def find_wrk() -> str:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise BenchError("wrk is not installed. Install it with: sudo apt-get install -y wrk "
                         "(macOS: brew install wrk), then run this script again.")
    return wrk


def run_wrk(wrk: str, pin: list[str], url: str, body: Path, seconds: int, connections: int) -> dict[str, Any]:
    cmd = [*pin, wrk, "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "--latency",
           "-s", str(HERE / "post.lua"), url]
    proc = subprocess.run(cmd, env={**os.environ, "BENCH_BODY_FILE": str(body)}, capture_output=True,
                          text=True, timeout=seconds + 60)
    line = next((x for x in proc.stdout.splitlines() if x.startswith("BENCH_JSON ")), None)
    if proc.returncode != 0 or line is None:
        raise BenchError(f"wrk failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return json.loads(line.removeprefix("BENCH_JSON "))
