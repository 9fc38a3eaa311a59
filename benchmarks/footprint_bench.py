"""What the lab's own processes cost a learner's 2-core laptop in CPU, each against a baseline of the same run.

Run on demand (not a test)::

    .venv/bin/python benchmarks/footprint_bench.py            # ~1 min
    .venv/bin/python benchmarks/footprint_bench.py --smoke    # a few seconds: only that it runs

Two figures, both CPU time (user + system, from ``/proc``), not wall time, so a busy machine moves them less:

* **model service start**: CPU the service process has used when ``/readyz`` first answers, on a fresh
  state with one trained model; the baseline is a bare FastAPI app under uvicorn (``bare_app.py``) until its
  ``/healthz`` answers. Every ``aiops-lab up``, every drill that restarts the service pays this. Target: at
  most 3x the bare app (~7x while the service imported scikit-learn, SciPy and pandas to load its model).
* **drill traffic client**: client CPU per ``POST /predict`` against that running service, 2,000 requests
  one after another, with ``labs/drills/traffic_http.py`` (what a drill's traffic process sends with) and
  with httpx's AsyncClient (the lab's general client; what the traffic used before), alternating. Target:
  at most 0.25x httpx.
* **idle service**: CPU per second of that running service with no traffic, against the bare app under
  plain uvicorn idling in the same window, and the wake-ups per second of each (every thread's voluntary
  context switches). An idle lab is what a learner's laptop runs most of the time; on this project's VMs
  each wake-up of an idle Python process costs ~0.25 ms. Target: at most 2x the bare app (the service's
  event-loop lag probe wakes it ten times a second by design; uvicorn's own tick and the prediction-log
  writer's polling made it ~4x).

Loopback only, free ports, and every process is stopped at the end. The result is written to
``benchmarks/results/footprint-<time>.json`` and compared with the previous one.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(HERE))

import bench_record  # noqa: E402

from aiops_core import cpu_priority  # noqa: E402
from aiops_core import http as lab_http  # noqa: E402
from aiops_core.topology import COMPONENTS  # noqa: E402
from labs.drills.traffic_http import Http1Client  # noqa: E402

START_RATIO_TARGET = 3.0
CLIENT_RATIO_TARGET = 0.25
IDLE_RATIO_TARGET = 2.0
RECORD = {"distance_km": 3.5, "items_count": 2, "is_peak_hour": 1, "traffic_index": 4.0,
          "courier_experience_months": 12.0}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wakeups(pid: int) -> int:
    """Voluntary context switches of every thread of ``pid``: one per return from an idle wait."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            status = (task / "status").read_text()
        except OSError:  # the thread ended
            continue
        total += int(status.split("voluntary_ctxt_switches:")[1].split()[0])
    return total


def _idle(procs: dict[str, subprocess.Popen[bytes]], seconds: float) -> dict[str, dict[str, float]]:
    """CPU ms and wake-ups per second of each process over the same ``seconds`` with no traffic."""
    before = {name: (cpu_priority.cpu_seconds(p.pid), _wakeups(p.pid)) for name, p in procs.items()}
    time.sleep(seconds)
    out = {}
    for name, p in procs.items():
        cpu, wakeups = cpu_priority.cpu_seconds(p.pid) - before[name][0], _wakeups(p.pid) - before[name][1]
        out[name] = {"cpu_ms_per_s": round(cpu * 1000 / seconds, 3), "wakeups_per_s": round(wakeups / seconds, 2)}
    return out


def _started(argv: list[str], env: dict[str, str], url: str, timeout_s: float) -> tuple[subprocess.Popen[bytes], float]:
    """Start ``argv``; (the process, its CPU seconds when ``url`` first answered 200)."""
    proc = subprocess.Popen(argv, env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{' '.join(argv)} exited with {proc.returncode} before {url} answered")
        try:
            if lab_http.get(url, timeout=1.0).status_code == 200:
                return proc, cpu_priority.cpu_seconds(proc.pid)
        except Exception:
            pass
        time.sleep(0.02)
    proc.kill()
    raise SystemExit(f"{url} did not answer within {timeout_s:.0f} s")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def _private_env(state: Path) -> dict[str, str]:
    """A private lab's environment: its own state dir and a free port for every component, so the service
    never reaches a lab running on the default ports (its feature lookup, for one)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIOPS_", "LOCUST_"))}
    env["AIOPS_STATE_DIR"] = str(state)
    env.update({c.port_env: str(_free_port()) for c in COMPONENTS})
    env["AIOPS_PORT"] = env[next(c.port_env for c in COMPONENTS if c.name == "model-service")]
    return env


def _trained_state() -> Path:
    state = Path(tempfile.mkdtemp(prefix="footprint-"))
    code = ("import sys; from pathlib import Path; from model_service.training import train; "
            "from model_service.registry import Registry; r = Registry(Path(sys.argv[1]) / 'models'); "
            "r.register(train(rows=2000)); r.activate('v1')")
    subprocess.run([sys.executable, "-c", code, str(state)], cwd=REPO, check=True)
    return state


async def _client_cpu_per_request(kind: str, url: str, n: int) -> float:
    body = json.dumps(RECORD).encode()
    if kind == "httpx":
        async with lab_http.new_async_client(base_url=url, timeout=10.0) as client:
            started = time.process_time()
            for _ in range(n):
                (await client.post("/predict", content=body, headers={"content-type": "application/json"})).json()
            return (time.process_time() - started) / n
    async with Http1Client(url, timeout=10.0, max_connections=4) as lean:
        started = time.process_time()
        for _ in range(n):
            (await lean.post("/predict", body)).json()
        return (time.process_time() - started) / n


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=3, help="service starts (and bare app starts) to measure")
    parser.add_argument("--requests", type=int, default=2000, help="requests per client round")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds per client")
    parser.add_argument("--idle", type=float, default=30.0, help="seconds of the idle measurement")
    parser.add_argument("--smoke", action="store_true", help="one start each, 100 requests, one round, 2 s idle")
    parser.add_argument("--out", type=Path, default=bench_record.RESULTS)
    args = parser.parse_args(argv)
    if args.smoke:
        args.starts, args.requests, args.rounds, args.idle = 1, 100, 1, 2.0
    start_timeout = float(os.environ.get("AIOPS_BENCH_START_TIMEOUT_S", "60"))
    machine = bench_record.machine()
    state = _trained_state()

    service_cpu, bare_cpu = [], []
    for i in range(args.starts):
        env = _private_env(state)
        port = int(env["AIOPS_PORT"])
        proc, cpu = _started([sys.executable, "-m", "model_service"], env, f"http://127.0.0.1:{port}/readyz",
                             start_timeout)
        service_cpu.append(cpu)
        last = i == args.starts - 1
        if not last:
            _stop(proc)
        bport = _free_port()
        bare, cpu = _started([sys.executable, "-m", "uvicorn", "bare_app:app", "--app-dir", str(HERE), "--host",
                              "127.0.0.1", "--port", str(bport), "--log-level", "warning"], env,
                             f"http://127.0.0.1:{bport}/healthz", start_timeout)
        bare_cpu.append(cpu)
        _stop(bare)
        print(f"start {i + 1}: model service {service_cpu[-1]:.2f} CPU-s, bare FastAPI app {cpu:.2f} CPU-s",
              flush=True)

    url = f"http://127.0.0.1:{port}"
    bport = _free_port()
    bare, _ = _started([sys.executable, "-m", "uvicorn", "bare_app:app", "--app-dir", str(HERE), "--host", "127.0.0.1",
                        "--port", str(bport), "--log-level", "warning"], env, f"http://127.0.0.1:{bport}/healthz",
                       start_timeout)
    try:
        time.sleep(1.0)  # the start-up's connections close
        idle = _idle({"service": proc, "bare": bare}, args.idle)
    finally:
        _stop(bare)
    for name, figure in idle.items():
        print(f"idle {name:7s}: {figure['cpu_ms_per_s']:.2f} ms CPU/s, {figure['wakeups_per_s']:.1f} wake-ups/s",
              flush=True)
    # CPU is counted in clock ticks (10 ms): a bare app idling below one tick in the window counts as one.
    idle_ratio = idle["service"]["cpu_ms_per_s"] / max(idle["bare"]["cpu_ms_per_s"], 10.0 / args.idle)
    per_request: dict[str, list[float]] = {"lean": [], "httpx": []}
    try:
        for _ in range(args.rounds):
            for kind in ("lean", "httpx"):
                per_request[kind].append(asyncio.run(_client_cpu_per_request(kind, url, args.requests)))
                print(f"{kind:5s} client: {per_request[kind][-1] * 1e6:,.0f} µs CPU per request", flush=True)
    finally:
        _stop(proc)

    start_ratio = statistics.median(service_cpu) / statistics.median(bare_cpu)
    client_ratio = statistics.median(per_request["lean"]) / statistics.median(per_request["httpx"])
    figures = {"service_start_cpu_s": service_cpu, "bare_app_start_cpu_s": bare_cpu,
               "start_ratio": round(start_ratio, 3),
               "client_cpu_us": {k: [round(v * 1e6, 1) for v in vs] for k, vs in per_request.items()},
               "client_ratio": round(client_ratio, 3), "requests": args.requests,
               "idle": idle, "idle_seconds": args.idle, "idle_ratio": round(idle_ratio, 3)}
    old = bench_record.previous_announced("footprint", args.out)
    if old is not None:
        before = old.get("figures", {})
        print(f"  service start / bare app   {bench_record.change(before.get('start_ratio'), start_ratio)}")
        print(f"  lean / httpx client CPU    {bench_record.change(before.get('client_ratio'), client_ratio)}")
        print(f"  idle service / bare app    {bench_record.change(before.get('idle_ratio'), idle_ratio)}")
    verdicts = [
        {"name": "model service start CPU vs a bare FastAPI app", "value": f"{start_ratio:.2f}x",
         "target": f"<= {START_RATIO_TARGET}x", "pass": start_ratio <= START_RATIO_TARGET},
        {"name": "drill traffic client CPU per request vs httpx", "value": f"{client_ratio:.2f}x",
         "target": f"<= {CLIENT_RATIO_TARGET}x", "pass": client_ratio <= CLIENT_RATIO_TARGET},
        {"name": "idle model service CPU vs an idle bare uvicorn app", "value": f"{idle_ratio:.2f}x",
         "target": f"<= {IDLE_RATIO_TARGET}x", "pass": idle_ratio <= IDLE_RATIO_TARGET},
    ]
    result = {"kind": "footprint", "machine": machine, "versions": bench_record.versions(), "figures": figures,
              "targets": verdicts, "smoke": args.smoke}
    return bench_record.finish("footprint", result, verdicts, args.out, args.smoke)


if __name__ == "__main__":
    sys.exit(main())
