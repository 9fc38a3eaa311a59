"""Running a benchmark script the way a developer does: a fresh process, results in a directory of the test's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.support.speed import scaled

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def run_benchmark(script: str, out: Path, *args: str, timeout_s: float = 180) -> subprocess.CompletedProcess[str]:
    """``python benchmarks/SCRIPT --out OUT ARGS``; fails with the script's own output when it exits non-zero."""
    env = {**os.environ, "AIOPS_BENCH_START_TIMEOUT_S": f"{scaled(60):.0f}"}  # a loaded machine starts slowly
    done = subprocess.run([sys.executable, str(BENCHMARKS / script), "--out", str(out), *args], env=env,
                          capture_output=True, text=True, timeout=scaled(timeout_s), check=False)
    assert done.returncode == 0, f"{script} exited {done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def results(out: Path, kind: str) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted(out.glob(f"{kind}-*.json"))]
