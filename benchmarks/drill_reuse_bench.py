"""Does a drill page as fast on a reused lab as on a fresh one? Measured in one run on a private lab.

Run on demand (not a test; about 15 minutes, mostly waiting for alert windows)::

    .venv/bin/python benchmarks/drill_reuse_bench.py
    .venv/bin/python benchmarks/drill_reuse_bench.py --drill latency-regression --before error-burst

Three runs of ``--drill`` (default latency-regression, whose burn-rate page is the most sensitive to earlier
traffic: 0.9 slow requests/s against an earlier drill's 8 fast ones), each played until its first page and
then stopped:

1. **fresh**: the lab just started (the baseline);
2. **reused, --no-wait**: right after ``--before`` (default error-burst, 8 requests/s) ran for
   ``--before-seconds`` and was stopped -- the old behaviour;
3. **reused**: the same, with the default ``drill start``, which waits until the previous drill's traffic
   has left the page windows.

Target: run 3's time to detect <= 1.5x run 1's. Prints each TTD (injection -> first page in the pager), the
ratios against the fresh run, PASS/FAIL, and writes ``benchmarks/results/drill-reuse-<time>.json``. Every
request goes to 127.0.0.1; each phase is bounded and the lab is stopped at the end (also on Ctrl-C).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from aiops_core import http as lab_http

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
RESULTS = HERE / "results"
sys.path.insert(0, str(REPO))

from benchmarks.cli_bench import aiops, lab_env  # noqa: E402

PAGE_TIMEOUT_S = 600.0
TARGET_RATIO = 1.5


def run(env: dict[str, str], *args: str, timeout: float = 900.0) -> str:
    done = subprocess.run(aiops(*args), env=env, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise SystemExit(f"aiops-lab {' '.join(args)} failed ({done.returncode}):\n{done.stdout[-1500:]}"
                         f"{done.stderr[-1500:]}")
    return done.stdout


def journal(env: dict[str, str]) -> dict[str, Any]:
    return json.loads((Path(env["AIOPS_STATE_DIR"]) / "drills" / "current.json").read_text())


def first_page_after(env: dict[str, str], since: float) -> tuple[str, float] | None:
    """(alert name, paged_at) of the first page at or after ``since`` (Watchdog aside), from the pager's API."""

    url = f"http://127.0.0.1:{env['AIOPS_PAGER_PORT']}/pages"
    pages = lab_http.get(url, params={"since": since, "limit": 500}, timeout=10).json()
    pages = [p for p in pages if p.get("alertname") != "Watchdog" and p["paged_at"] >= since]
    if not pages:
        return None
    first = min(pages, key=lambda p: p["paged_at"])
    return first["alertname"], first["paged_at"]


def play_until_page(env: dict[str, str], drill: str, *flags: str) -> dict[str, Any]:
    began = time.time()
    run(env, "drill", "start", drill, *flags)
    started = time.time()
    injected = journal(env)["injected_at"]
    deadline = time.monotonic() + PAGE_TIMEOUT_S
    page = None
    while page is None and time.monotonic() < deadline:
        page = first_page_after(env, injected)
        time.sleep(1.0)
    run(env, "drill", "stop")
    return {"drill": drill, "flags": list(flags), "start_took_s": round(started - began, 1),
            "page": page[0] if page else None, "ttd_s": round(page[1] - injected, 1) if page else None}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--drill", default="latency-regression")
    parser.add_argument("--before", default="error-burst", help="the drill whose traffic the reused lab holds")
    parser.add_argument("--before-seconds", type=float, default=120.0)
    args = parser.parse_args()
    os.chdir(REPO)
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="aiops-reuse-bench-") as tmp:
        env = lab_env(Path(tmp) / "state")
        print(f"starting a private lab in {tmp} ...", flush=True)
        run(env, "up", "-d", "--mode", "lab", timeout=600)
        try:
            for name, flags in (("fresh", ()), ("reused, --no-wait", ("--no-wait",)), ("reused", ())):
                if name != "fresh":
                    print(f"running {args.before} for {args.before_seconds:.0f} s ...", flush=True)
                    run(env, "drill", "start", args.before, "--no-wait", "--force")
                    time.sleep(args.before_seconds)
                    run(env, "drill", "stop")
                print(f"{name}: {args.drill} until its first page ...", flush=True)
                results[name] = play_until_page(env, args.drill, *flags)
                print(f"  {results[name]}", flush=True)
        finally:
            subprocess.run(aiops("drill", "stop"), env=env, capture_output=True, timeout=120, check=False)
            subprocess.run(aiops("down"), env=env, capture_output=True, timeout=120, check=False)
    fresh = results["fresh"]["ttd_s"]
    print(f"\n{args.drill}: time to detect (injection -> first page), after {args.before} on the reused lab")
    for name, r in results.items():
        ratio = f"{r['ttd_s'] / fresh:.2f}x fresh" if r["ttd_s"] and fresh else "-"
        print(f"  {name:<20} TTD {r['ttd_s']} s ({r['page']}), drill start took {r['start_took_s']} s, {ratio}")
    reused = results["reused"]["ttd_s"]
    ok = bool(fresh and reused and reused <= TARGET_RATIO * fresh)
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"drill-reuse-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps({"time": time.strftime("%Y-%m-%dT%H:%M:%S"), "args": vars(args), "runs": results},
                               indent=2) + "\n")
    print(f"result: {path}")
    print(f"{'PASS' if ok else 'FAIL'}: reused TTD <= {TARGET_RATIO}x fresh")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
