"""How long the CLI makes a learner wait, on a quiet machine and beside two busy CPU hogs, measured in one run.

Run on demand (not a test)::

    .venv/bin/python benchmarks/cli_bench.py                  # quiet, then with 2 hogs
    .venv/bin/python benchmarks/cli_bench.py --hogs 0 --repeat 5 --drills stale-model

It starts a private lab (its own state dir and free loopback ports, ``aiops-lab up -d --mode lab``), then
times, as a learner's terminal would run them (a fresh process each time):

* the short commands (``--help``, ``status``, ``model list``, ``config get``, ``drill list``, ``pager list``):
  target <= 1 s each on the quiet machine;
* ``drill start`` of a few drills (the ones that release models first: their candidates are cached per
  machine, so the first start of each is reported apart, as "cold"): target <= 10 s with two hogs running.
  Started with ``--force --no-wait``, back to back: the previous start's alerts and traffic are still around,
  and this measures the start itself, not the clean-start wait.

The baseline, measured in the same run and phase, is a bare ``python -c pass``: each command is also printed
as a multiple of it, so numbers from machines of different speed can be compared. The result is written to
``benchmarks/results/cli-<time>.json`` and compared with the previous one. Everything is loopback, bounded,
and the lab and the hogs are stopped at the end (also on Ctrl-C).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
RESULTS = HERE / "results"
sys.path.insert(0, str(REPO))

from aiops_core.topology import COMPONENTS  # noqa: E402

SHORT = (["--help"], ["status"], ["model", "list"], ["config", "get"], ["drill", "list"], ["pager", "list"])
SHORT_TARGET_S = 1.0
START_TARGET_S = 10.0
HOG = ("import time\nend = time.monotonic() + {s}\nwhile time.monotonic() < end:\n    pass\n")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def lab_env(state: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIOPS_", "LOCUST_"))}
    env.update({"AIOPS_STATE_DIR": str(state), "COLUMNS": "120"})
    env.update({c.port_env: str(_free_port()) for c in COMPONENTS})
    return env


def timed(cmd: list[str], env: dict[str, str], timeout: float = 300.0) -> float:
    began = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    took = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stdout[-800:]}{done.stderr[-800:]}")
    return took


def aiops(*args: str) -> list[str]:
    return [sys.executable, "-m", "labs.cli", *args]


def phase(env: dict[str, str], repeat: int, drills: list[str], cold: set[str]) -> dict[str, Any]:
    base = statistics.median(timed([sys.executable, "-c", "pass"], env) for _ in range(repeat))
    out: dict[str, Any] = {"python_start_s": base, "commands": {}, "drill_start": {}}
    for args in SHORT:
        out["commands"][" ".join(args)] = statistics.median(timed(aiops(*args), env) for _ in range(repeat))
    for drill in drills:
        times = []
        for i in range(repeat if drill not in cold else repeat + 1):
            # --force: the previous start's alerts may still fire (this measures speed, not a clean start);
            # --no-wait: no countdown for the previous start's traffic in the alert windows.
            times.append(timed(aiops("drill", "start", drill, "--force", "--no-wait"), env))
            timed(aiops("drill", "stop"), env)
            if i == 0 and drill in cold:
                out["drill_start"][f"{drill} (cold)"] = times.pop()
                cold.discard(drill)
        out["drill_start"][drill] = max(times)  # the worst start a learner waits through
    return out


def show(name: str, result: dict[str, Any]) -> list[tuple[str, bool]]:
    base = result["python_start_s"]
    print(f"\n{name}: python -c pass {base * 1000:.0f} ms")
    verdicts = []
    for cmd, took in result["commands"].items():
        ok = took <= SHORT_TARGET_S
        print(f"  aiops-lab {cmd:<14} {took:6.2f} s  {took / base:5.1f}x python start"
              + (f"  {'PASS' if ok else 'FAIL'} (<= {SHORT_TARGET_S:g} s quiet)" if name == "quiet" else ""))
        if name == "quiet":
            verdicts.append((f"quiet: {cmd} <= {SHORT_TARGET_S:g} s", ok))
    for drill, took in result["drill_start"].items():
        ok = took <= START_TARGET_S
        loaded = name != "quiet"
        print(f"  drill start {drill:<24} {took:6.2f} s  {took / base:5.1f}x python start"
              + (f"  {'PASS' if ok else 'FAIL'} (<= {START_TARGET_S:g} s with hogs)" if loaded else ""))
        if loaded:
            verdicts.append((f"{name}: drill start {drill} <= {START_TARGET_S:g} s", ok))
    return verdicts


def compare(result: dict[str, Any]) -> None:
    previous = sorted(RESULTS.glob("cli-*.json"))
    if not previous:
        return
    old = json.loads(previous[-1].read_text())
    print(f"\ncompared with {previous[-1].name}:")
    for phase_name, now in result["phases"].items():
        then = old.get("phases", {}).get(phase_name)
        if not then:
            continue
        for group in ("commands", "drill_start"):
            for key, value in now[group].items():
                if key in then[group]:
                    print(f"  {phase_name:<8} {key:<28} {then[group][key]:6.2f} s -> {value:6.2f} s "
                          f"({value / then[group][key]:.2f}x)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hogs", type=int, default=2, help="CPU hogs for the loaded phase (0: quiet only)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--drills", nargs="+", default=["stale-model", "bad-model-deploy", "latency-regression"])
    args = parser.parse_args()
    os.chdir(REPO)
    with tempfile.TemporaryDirectory(prefix="aiops-cli-bench-") as tmp:
        env = lab_env(Path(tmp) / "state")
        # A private candidate cache, so the first start of each drill is really cold.
        env["AIOPS_CACHE_DIR"] = str(Path(tmp) / "cache")
        print(f"starting a private lab in {tmp} ...", flush=True)
        timed(aiops("up", "-d", "--mode", "lab"), env, timeout=600)
        hogs: list[subprocess.Popen[bytes]] = []
        try:
            phases = {"quiet": phase(env, args.repeat, args.drills, set(args.drills))}
            if args.hogs:
                # Each in a session of its own, as another program would be (tests/support/cpu_hogs.py says why).
                hogs = [subprocess.Popen([sys.executable, "-c", HOG.format(s=1800)], start_new_session=True)
                        for _ in range(args.hogs)]
                phases[f"{args.hogs} hogs"] = phase(env, args.repeat, args.drills, set())
        finally:
            for hog in hogs:
                hog.kill()
            subprocess.run(aiops("drill", "stop"), env=env, capture_output=True, timeout=120, check=False)
            subprocess.run(aiops("down"), env=env, capture_output=True, timeout=120, check=False)
    verdicts = [v for name, result in phases.items() for v in show(name, result)]
    result = {"time": time.strftime("%Y-%m-%dT%H:%M:%S"), "machine": {"cpus": os.cpu_count(),
              "python": platform.python_version(), "platform": platform.platform()}, "phases": phases}
    compare(result)
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"cli-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nresult: {path}")
    failed = [name for name, ok in verdicts if not ok]
    print("PASS: every target met" if not failed else "FAIL:\n  " + "\n  ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
