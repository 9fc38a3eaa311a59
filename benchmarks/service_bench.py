"""How much the model service costs compared with a bare FastAPI endpoint, measured in one run.

Run on demand (not a test)::

    .venv/bin/python benchmarks/service_bench.py                       # 2 rounds x 4 cases, 10 s each
    .venv/bin/python benchmarks/service_bench.py --duration 8 --repeat 3
    .venv/bin/python benchmarks/service_bench.py --profile /tmp/prof  # + one py-spy round (not counted)
    .venv/bin/python benchmarks/service_bench.py --smoke --out /tmp/x  # seconds; checks that it runs

Cases, all on loopback against one uvicorn worker started with the service's flags:

(a) a bare FastAPI POST endpoint returning a constant (benchmarks/bare_app.py) -- the baseline;
(b) the real service (``python -m model_service``, default settings: metrics, prediction log, access log)
    answering POST /predict with one row;
(c) the same service with batches of ``--batch`` rows (100; throughput counted in predictions/s);
(d) batches of ``--big-batch`` rows (1000): reported, no target.

Targets (issue 18), judged on the median of the rounds, each ratio taken within one round:
(b)/(a) throughput >= 0.80x and p99 <= 1.5x; (c) >= 200,000 predictions/s with p99 <= 4x its p50; no errors.

Both servers run for the whole benchmark and the rounds interleave the cases (a b c d a b c d ...), so
drifting background load hits every case alike; the spread across rounds is printed. On a 2-core machine
the generator competes with the server, so when ``taskset`` exists the servers are pinned to CPU 0 and wrk
(and py-spy) to CPU 1. The service keeps every row in its prediction log as usual; only the retention row
cap is lifted (``AIOPS_LOG_RETENTION_ROWS``), because a minute at 200k rows/s passes the 2M-row default and
its periodic DELETE would be measured instead of the request path.

The load generator is wrk (``apt-get install -y wrk``), one thread, POSTing through benchmarks/post.lua.
The result goes to ``--out`` (benchmarks/results/) as ``service-<time>.json``, compared with the previous one.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

import bench_record  # noqa: E402
from bench_server import BenchError, Server, find_wrk, free_port, pinning, run_wrk, server  # noqa: E402

from model_service import generator, training  # noqa: E402
from model_service.registry import Registry  # noqa: E402

# The flags `python -m model_service` passes to uvicorn, repeated for the baseline app.
UVICORN_FLAGS = ("--workers", "1", "--no-access-log", "--no-server-header", "--timeout-graceful-shutdown", "15")
TARGET_SINGLE_THROUGHPUT = 0.80
TARGET_SINGLE_P99 = 1.5
TARGET_BATCH_PREDICTIONS_PER_S = 200_000
TARGET_BATCH_P99_OVER_P50 = 4.0


@dataclass(frozen=True)
class Case:
    key: str
    name: str
    app: str  # "bare" or "service"
    rows: int


@dataclass
class Run:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int
    cpu_us_per_request: float  # server CPU (all threads); robust to other load on a shared machine
    main_thread_cpu_us_per_request: float  # the event loop's share of it; the rest is other threads (log writer)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


def measure(wrk: str, pin: list[str], srv: Server, body: Path, args: argparse.Namespace,
            profile: Path | None = None) -> Run:
    url = srv.url + "/predict"
    if args.warmup:
        run_wrk(wrk, pin, url, body, args.warmup, args.connections)  # warm-up, not measured
    spy = None
    if profile is not None:  # samples every thread that is not idle; --nonblocking: never pauses the server
        spy = subprocess.Popen([*pin, str(Path(sys.executable).parent / "py-spy"), "record", "--pid",
                                str(srv.process.pid), "--duration", str(args.duration), "--rate", "250",
                                "--nonblocking", "--threads", "--format", "raw", "--output", str(profile),
                                *args.py_spy_arg],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    main_before, other_before = srv.cpu_by_thread()
    stats = run_wrk(wrk, pin, url, body, args.duration, args.connections)
    main_after, other_after = srv.cpu_by_thread()
    main_cpu = main_after - main_before
    cpu = main_cpu + other_after - other_before
    if spy is not None and spy.wait(60) != 0:
        raise BenchError(f"py-spy failed: {spy.stderr.read().decode()[-800:] if spy.stderr else ''}")
    errors = sum(stats[k] for k in ("connect_errors", "read_errors", "write_errors", "status_errors", "timeouts"))
    per_request = 1e6 / max(stats["requests"], 1)
    return Run(stats["requests"], stats["duration_us"] / 1e6, stats["p50_us"] / 1000, stats["p99_us"] / 1000, errors,
               cpu * per_request, main_cpu * per_request)


def make_state(root: Path) -> Path:
    """A state dir with one trained, active model -- what `aiops-lab model train` leaves behind."""
    state = root / "state"
    reg = Registry(state / "models")
    reg.activate(reg.register(training.train(rows=20_000, seed=7)), actor="bench")
    return state


def write_body(root: Path, rows: int) -> Path:
    records = generator.records(generator.generate(rows, seed=99))
    path = root / f"body-{rows}.json"
    path.write_text(json.dumps(records[0] if rows == 1 else {"instances": records}))
    return path


def summarise(cases: list[Case], runs: dict[str, list[Run]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for case in cases:
        rs = runs[case.key]
        out[case.key] = {"name": case.name, "rows_per_request": case.rows, "runs": [asdict(r) | {"rps": r.rps}
                                                                                   for r in rs]}
        for field in ("rps", "p50_ms", "p99_ms", "cpu_us_per_request", "main_thread_cpu_us_per_request"):
            values = [getattr(r, field) for r in rs]
            out[case.key][field] = statistics.median(values)
            out[case.key][f"{field}_spread"] = [min(values), max(values)]
        out[case.key]["predictions_per_s"] = out[case.key]["rps"] * case.rows
        out[case.key]["errors"] = sum(r.errors for r in rs)
    return out


def ratios(runs: dict[str, list[Run]], batch: int) -> dict[str, list[float]]:
    """Each ratio per round: both sides measured minutes apart, under the same background load."""
    a, b, c = runs["a"], runs["b"], runs["c"]
    return {"b/a throughput": [y.rps / x.rps for x, y in zip(a, b, strict=True)],
            "b/a p99": [y.p99_ms / x.p99_ms for x, y in zip(a, b, strict=True)],
            "b/a cpu per request": [y.cpu_us_per_request / x.cpu_us_per_request for x, y in zip(a, b, strict=True)],
            "c predictions/s": [r.rps * batch for r in c],
            "c p99/p50": [r.p99_ms / r.p50_ms for r in c]}


def _target(name: str, value: str, target: str, ok: bool) -> dict[str, Any]:
    return {"name": name, "value": value, "target": target, "pass": bool(ok)}


def targets(summary: dict[str, Any], per_round: dict[str, list[float]], batch: int) -> list[dict[str, Any]]:
    med = {k: statistics.median(v) for k, v in per_round.items()}
    seen = {k: f"{med[k]:.2f}x (rounds {min(v):.2f}-{max(v):.2f})" for k, v in per_round.items()}
    c = summary["c"]
    lo, hi = (x * batch for x in c["rps_spread"])
    return [
        _target("(b)/(a) throughput", seen["b/a throughput"], f">= {TARGET_SINGLE_THROUGHPUT:.2f}x",
                med["b/a throughput"] >= TARGET_SINGLE_THROUGHPUT),
        _target("(b)/(a) p99", seen["b/a p99"], f"<= {TARGET_SINGLE_P99:.1f}x", med["b/a p99"] <= TARGET_SINGLE_P99),
        _target(f"(c) batch-{batch} predictions/s", f"{c['predictions_per_s']:,.0f} (rounds {lo:,.0f}-{hi:,.0f})",
                f">= {TARGET_BATCH_PREDICTIONS_PER_S:,}", c["predictions_per_s"] >= TARGET_BATCH_PREDICTIONS_PER_S),
        _target(f"(c) batch-{batch} p99/p50", seen["c p99/p50"], f"<= {TARGET_BATCH_P99_OVER_P50:g}x",
                med["c p99/p50"] <= TARGET_BATCH_P99_OVER_P50),
        _target("no errors or non-2xx responses", str(sum(s["errors"] for s in summary.values())), "0",
                all(s["errors"] == 0 for s in summary.values())),
    ]


def show(summary: dict[str, Any]) -> None:
    print(f"\n{'case (median of rounds; min-max)':<40} {'req/s':>16} {'pred/s':>9} {'p50 ms':>7} "
          f"{'p99 ms':>15} {'err':>4} {'CPU us/req (main+other)':>24}")
    for s in summary.values():
        lo, hi = s["rps_spread"]
        plo, phi = s["p99_ms_spread"]
        print(f"{s['name']:<40} {s['rps']:>6.0f} ({lo:>4.0f}-{hi:<4.0f}) {s['predictions_per_s']:>9.0f} "
              f"{s['p50_ms']:>7.2f} {s['p99_ms']:>6.2f} ({plo:.1f}-{phi:.1f}) {s['errors']:>4} "
              f"{s['cpu_us_per_request']:>8.0f} ({s['main_thread_cpu_us_per_request']:.0f}"
              f"+{s['cpu_us_per_request'] - s['main_thread_cpu_us_per_request']:.0f})")


def compare(result: dict[str, Any], out: Path) -> None:
    old = bench_record.previous_announced("service", out, lambda o: o.get("settings", {}).get("note", ""))
    if old is None:
        return
    for key, now in result["cases"].items():
        then = old.get("cases", {}).get(key)
        if then:
            change = bench_record.change
            print(f"  {now['name']:<40} pred/s {change(then['predictions_per_s'], now['predictions_per_s'])}"
                  f"   p99 ms {change(then['p99_ms'], now['p99_ms'])}")
    for name, now in result["ratios"].items():
        then = old.get("ratios", {}).get(name)
        if then:
            print(f"  ratio {name:<34} {bench_record.change(statistics.median(then), statistics.median(now))}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds measured per case and round (wrk: whole s)")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of unmeasured load before each case (0: none)")
    parser.add_argument("--repeat", type=int, default=2, help="rounds of every case (the spread is reported)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (one wrk thread)")
    parser.add_argument("--batch", type=int, default=100, help="rows per request in case (c)")
    parser.add_argument("--big-batch", type=int, default=1000, help="rows per request in case (d)")
    parser.add_argument("--out", type=Path, default=bench_record.RESULTS, help="directory for the result JSON")
    parser.add_argument("--note", default="", help="a word on what this run measures (kept in the JSON)")
    parser.add_argument("--profile", type=Path, help="after the rounds, one more round under py-spy, raw "
                        "stacks written to PROFILE/<case>.txt (summarise: benchmarks/profile_summary.py)")
    parser.add_argument("--py-spy-arg", action="append", default=[], metavar="ARG",
                        help="pass ARG to py-spy record, e.g. --py-spy-arg=--gil (only the thread holding the GIL)")
    parser.add_argument("--smoke", action="store_true", help="one short round: proves the benchmark runs")
    parser.add_argument("--keep", action="store_true", help="keep the temporary state dir and server logs")
    args = parser.parse_args(argv)
    if args.smoke:
        args.duration, args.warmup, args.repeat = 1, 0, 1

    wrk = find_wrk()
    pin_server, pin_wrk = pinning()
    cases = [Case("a", "(a) bare FastAPI POST, constant", "bare", 1),
             Case("b", "(b) /predict 1 row", "service", 1),
             Case("c", f"(c) /predict {args.batch} rows", "service", args.batch),
             Case("d", f"(d) /predict {args.big_batch} rows", "service", args.big_batch)]
    root = Path(tempfile.mkdtemp(prefix="aiops-bench-"))
    runs: dict[str, list[Run]] = {c.key: [] for c in cases}
    try:
        state = make_state(root)
        bodies = {c.key: write_body(root, c.rows) for c in cases}
        base_env = {k: v for k, v in os.environ.items() if not k.startswith("AIOPS_")}
        with ExitStack() as stack:
            port = free_port()
            servers = {"bare": stack.enter_context(server(
                [*pin_server, sys.executable, "-m", "uvicorn", "bare_app:app", "--app-dir", str(HERE), "--host",
                 "127.0.0.1", "--port", str(port), "--log-level", "warning", *UVICORN_FLAGS],
                base_env, port, root / "bare.log"))}
            port = free_port()
            env = {**base_env, "AIOPS_STATE_DIR": str(state), "AIOPS_PORT": str(port),
                   "AIOPS_LOG_RETENTION_ROWS": str(10**9)}
            servers["service"] = stack.enter_context(server([*pin_server, sys.executable, "-m", "model_service"],
                                                            env, port, root / "service.log"))
            for i in range(args.repeat):
                for case in cases:
                    runs[case.key].append(measure(wrk, pin_wrk, servers[case.app], bodies[case.key], args))
                    print(f"round {i + 1}/{args.repeat} {case.name}: {runs[case.key][-1].rps:.0f} req/s", flush=True)
            if args.profile is not None:
                args.profile.mkdir(parents=True, exist_ok=True)
                for case in cases:
                    measure(wrk, pin_wrk, servers[case.app], bodies[case.key], args, args.profile / f"{case.key}.txt")
                print(f"py-spy profiles: {args.profile}/{{a,b,c,d}}.txt")
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)

    summary = summarise(cases, runs)
    per_round = ratios(runs, args.batch)
    verdicts = targets(summary, per_round, args.batch)
    result = {"kind": "service", "time": time.strftime("%Y-%m-%dT%H:%M:%S"), "machine": bench_record.machine(),
              "versions": bench_record.versions({"wrk": subprocess.run([wrk, "--version"], capture_output=True,
                                                                       text=True).stdout.split(" [")[0]}),
              "settings": {"duration_s": args.duration, "warmup_s": args.warmup, "rounds": args.repeat,
                           "connections": args.connections, "server_pinned": bool(pin_server),
                           "smoke": args.smoke, "note": args.note},
              "cases": summary, "ratios": per_round, "targets": verdicts}
    show(summary)
    print(f"wrk -t1 -c{args.connections} -d{args.duration:g}s x {args.repeat} rounds, server pinned: "
          f"{bool(pin_server)}; state and logs: {root if args.keep else '(removed; --keep to inspect)'}")
    compare(result, args.out)
    return bench_record.finish("service", result, verdicts, args.out, args.smoke)


if __name__ == "__main__":
    raise SystemExit(main())
