"""How much the model service costs compared with a bare FastAPI endpoint, measured in one run.

Run on demand (not a test)::

    .venv/bin/python benchmarks/service_bench.py            # 10 s per case, wrk -t1 -c16
    .venv/bin/python benchmarks/service_bench.py --duration 20 --connections 32

Cases, all on loopback against one uvicorn worker started with the service's flags:

(a) a bare FastAPI POST endpoint returning a constant (benchmarks/bare_app.py) -- the baseline;
(b) the real service (``python -m model_service``, default settings: metrics, prediction log, access log)
    answering POST /predict with one row;
(c) the same service with batches of ``--batch`` rows (throughput counted in predictions/s).

Targets: (b) >= 0.70x the throughput of (a) with p99 <= 2x; (c) >= 200k predictions/s.

The load generator is wrk (``apt-get install wrk``) with one thread, POSTing through benchmarks/post.lua.
On a 2-core machine the generator competes with the server, so when ``taskset`` exists the server is pinned
to CPU 0 and wrk to CPU 1 for every case, and ratios are only compared within one run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

from model_service import generator, training  # noqa: E402
from model_service.registry import Registry  # noqa: E402

# The flags `python -m model_service` passes to uvicorn, repeated for the baseline app.
UVICORN_FLAGS = ("--workers", "1", "--no-access-log", "--no-server-header", "--timeout-graceful-shutdown", "15")
TARGET_SINGLE_THROUGHPUT = 0.70
TARGET_SINGLE_P99 = 2.0
TARGET_BATCH_PREDICTIONS_PER_S = 200_000


class BenchError(SystemExit):
    """A precondition is missing; the message says how to fix it."""

    def __init__(self, message: str) -> None:
        super().__init__(f"service_bench: {message}")


@dataclass
class Result:
    case: str
    rows_per_request: int
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int
    cpu_us_per_request: float  # server CPU (all threads); robust to other load on a shared machine

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    @property
    def predictions_per_s(self) -> float:
        return self.rps * self.rows_per_request


def find_wrk() -> str:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise BenchError("wrk is not installed. Install it with: sudo apt-get install -y wrk "
                         "(macOS: brew install wrk), then run this script again.")
    return wrk


def pinning() -> tuple[list[str], list[str]]:
    """taskset prefixes for (server, load generator), or none when pinning is impossible."""
    taskset = shutil.which("taskset")
    if taskset is None or (os.cpu_count() or 1) < 2:
        print("note: taskset unavailable or a single CPU: server and wrk are not pinned")
        return [], []
    return [taskset, "-c", "0"], [taskset, "-c", "1"]


def free_port() -> int:
    import socket

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


@contextmanager
def server(args: list[str], env: dict[str, str], port: int, log: Path) -> Iterator[Server]:
    """Start a server process, wait for /healthz, yield it, always stop it."""
    with log.open("wb") as out:
        proc = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=REPO)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                if proc.poll() is not None:
                    raise BenchError(f"server exited during start-up; see {log}:\n{log.read_text()[-2000:]}")
                try:
                    if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise BenchError(f"server did not answer /healthz within 60 s; see {log}")
                time.sleep(0.1)
            yield Server(url, psutil.Process(proc.pid))  # taskset execs: same pid
        finally:
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def run_wrk(wrk: str, pin: list[str], url: str, body: Path, seconds: float, connections: int) -> dict:
    cmd = [*pin, wrk, "-t1", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "10s", "--latency",
           "-s", str(HERE / "post.lua"), url]
    proc = subprocess.run(cmd, env={**os.environ, "BENCH_BODY_FILE": str(body)}, capture_output=True,
                          text=True, timeout=seconds + 60)
    line = next((x for x in proc.stdout.splitlines() if x.startswith("BENCH_JSON ")), None)
    if proc.returncode != 0 or line is None:
        raise BenchError(f"wrk failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return json.loads(line.removeprefix("BENCH_JSON "))


def measure(case: str, rows: int, wrk: str, pin: list[str], srv: Server, body: Path,
            args: argparse.Namespace) -> Result:
    url = srv.url + "/predict"
    run_wrk(wrk, pin, url, body, args.warmup, args.connections)  # warm-up, not measured
    cpu_before = srv.cpu_seconds()
    stats = run_wrk(wrk, pin, url, body, args.duration, args.connections)
    cpu = srv.cpu_seconds() - cpu_before
    errors = sum(stats[k] for k in ("connect_errors", "read_errors", "write_errors", "status_errors", "timeouts"))
    return Result(case, rows, stats["requests"], stats["duration_us"] / 1e6, stats["p50_us"] / 1000,
                  stats["p99_us"] / 1000, errors, cpu / max(stats["requests"], 1) * 1e6)


def make_state(root: Path) -> Path:
    """A state dir with one trained, active model -- what `aiops-lab model train` leaves behind."""
    state = root / "state"
    reg = Registry(state / "models")
    reg.activate(reg.register(training.train(rows=20_000, seed=7)), actor="bench")
    return state


def write_bodies(root: Path, batch: int) -> tuple[Path, Path]:
    records = generator.records(generator.generate(batch, seed=99))
    single, many = root / "single.json", root / "batch.json"
    single.write_text(json.dumps(records[0]))
    many.write_text(json.dumps({"instances": records}))
    return single, many


def report(results: list[Result], extra: list[Result]) -> int:
    print()
    print(f"{'case':<44} {'req/s':>9} {'pred/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} "
          f"{'CPU us/req':>11}")
    for r in [*results, *extra]:
        print(f"{r.case:<44} {r.rps:>9.0f} {r.predictions_per_s:>10.0f} {r.p50_ms:>8.2f} {r.p99_ms:>8.2f} "
              f"{r.errors:>7} {r.cpu_us_per_request:>11.0f}")
    bare, single, batch = results
    throughput = single.rps / bare.rps
    p99 = single.p99_ms / bare.p99_ms
    checks = [
        (f"(b)/(a) throughput {throughput:.2f}x", throughput >= TARGET_SINGLE_THROUGHPUT,
         f">= {TARGET_SINGLE_THROUGHPUT:.2f}x"),
        (f"(b)/(a) p99 {p99:.2f}x", p99 <= TARGET_SINGLE_P99, f"<= {TARGET_SINGLE_P99:.1f}x"),
        (f"(c) {batch.predictions_per_s:,.0f} predictions/s", batch.predictions_per_s >= TARGET_BATCH_PREDICTIONS_PER_S,
         f">= {TARGET_BATCH_PREDICTIONS_PER_S:,}"),
        ("no errors or non-2xx responses", all(r.errors == 0 for r in results), "0"),
    ]
    print(f"  server CPU per request (b)/(a): {single.cpu_us_per_request / bare.cpu_us_per_request:.2f}x -- "
          "compare this when other processes share the CPUs")
    print()
    for what, ok, target in checks:
        print(f"  {'PASS' if ok else 'MISS'}  {what}  (target {target})")
    return 0 if all(ok for _, ok, _ in checks) else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds measured per case")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of unmeasured load before each case")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (one wrk thread)")
    parser.add_argument("--batch", type=int, default=100, help="rows per request in case (c)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary state dir and server logs")
    parser.add_argument("--ablate", action="store_true",
                        help="also run (b) with AIOPS_ACCESS_LOG=off, to show what the access log costs")
    args = parser.parse_args(argv)

    wrk = find_wrk()
    pin_server, pin_wrk = pinning()
    root = Path(tempfile.mkdtemp(prefix="aiops-bench-"))
    try:
        state = make_state(root)
        single, many = write_bodies(root, args.batch)
        base_env = {k: v for k, v in os.environ.items() if not k.startswith("AIOPS_")}
        results = []

        port = free_port()
        bare = [*pin_server, sys.executable, "-m", "uvicorn", "bare_app:app", "--app-dir", str(HERE),
                "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", *UVICORN_FLAGS]
        with server(bare, base_env, port, root / "bare.log") as srv:
            results.append(measure("(a) bare FastAPI POST, constant", 1, wrk, pin_wrk, srv, single, args))

        port = free_port()
        env = {**base_env, "AIOPS_STATE_DIR": str(state), "AIOPS_PORT": str(port)}
        with server([*pin_server, sys.executable, "-m", "model_service"], env, port, root / "service.log") as srv:
            results.append(measure("(b) /predict 1 row (metrics, log, access log)", 1, wrk, pin_wrk, srv, single,
                                   args))
            results.append(measure(f"(c) /predict {args.batch} rows", args.batch, wrk, pin_wrk, srv, many, args))
        extra = []
        if args.ablate:
            port = free_port()
            env = {**env, "AIOPS_PORT": str(port), "AIOPS_ACCESS_LOG": "off"}
            with server([*pin_server, sys.executable, "-m", "model_service"], env, port, root / "nolog.log") as srv:
                extra.append(measure("(b') /predict 1 row, access log off", 1, wrk, pin_wrk, srv, single, args))
        print(f"wrk -t1 -c{args.connections} -d{args.duration:g}s, server pinned: {bool(pin_server)}; "
              f"state and logs: {root if args.keep else '(removed; --keep to inspect)'}")
        return report(results, extra)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
