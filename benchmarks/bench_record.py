"""One result file per benchmark run: what ran, on what machine, with which versions, and the figures.

Every benchmark under ``benchmarks/`` writes ``<out>/<kind>-<time>.json`` (``benchmarks/results/`` unless
``--out`` says otherwise) and, before writing, compares itself with the newest earlier file of the same kind
in that directory, so a regression shows in review next to the commit that caused it. Figures from
different machines are only comparable as ratios to a baseline measured in the same run; the machine
block says which machine a file came from.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import sqlite3
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
PACKAGES = ("fastapi", "starlette", "uvicorn", "uvloop", "httptools", "pydantic", "pydantic-core", "numpy",
            "pandas", "scikit-learn", "prometheus-client", "evidently")


def machine() -> dict[str, Any]:
    """CPU model and count, OS, Python, and the load average when the run started (a noisy neighbour shows)."""
    model = ""
    with contextlib.suppress(OSError):
        model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                      if line.startswith("model name")), "")
    return {"cpus": os.cpu_count(), "cpu_model": model or platform.processor(), "platform": platform.platform(),
            "python": platform.python_version(), "load_average": list(os.getloadavg())}


def versions(extra: dict[str, str] | None = None) -> dict[str, str]:
    found = {"sqlite": sqlite3.sqlite_version}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return {**found, **(extra or {})}


def previous(kind: str, out: Path) -> tuple[Path, dict[str, Any]] | None:
    """The newest earlier result of ``kind`` in ``out``, or None (names sort by time)."""
    files = sorted(Path(out).glob(f"{kind}-*.json"))
    for path in reversed(files):
        try:
            return path, json.loads(path.read_text())
        except (OSError, ValueError):
            continue
    return None


def previous_announced(kind: str, out: Path, describe: Callable[[dict[str, Any]], str] | None = None
                       ) -> dict[str, Any] | None:
    """The newest earlier result of ``kind``, after printing which file the comparison below is against (or
    that there is none), so every benchmark's comparison starts alike."""
    found = previous(kind, out)
    if found is None:
        print(f"\n(no previous {kind}-*.json in this directory to compare with)")
        return None
    path, old = found
    print(f"\ncompared with {path.name}{f' ({describe(old)})' if describe else ''}:")
    return old


def write(kind: str, result: dict[str, Any], out: Path) -> Path:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path, n = out / f"{kind}-{stamp}.json", 1
    while path.exists():  # two runs in one second (the smoke tests) must not overwrite each other
        path, n = out / f"{kind}-{stamp}-{n}.json", n + 1
    path.write_text(json.dumps(result, indent=2) + "\n")
    return path


def number(x: float | None) -> str:
    """Thousands with separators, smaller numbers with four significant digits; None as a dash."""
    if x is None:
        return "-"
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.4g}"


def change(old: float | None, new: float | None) -> str:
    """``old -> new (x.xx times)``; one of them missing prints what is there."""
    ratio = f" ({new / old:.2f}x)" if old and new is not None else ""
    return f"{number(old)} -> {number(new)}{ratio}"


def verdict_lines(targets: list[dict[str, Any]]) -> list[str]:
    """``PASS``/``FAIL`` per target, the measured value and the target, one line each."""
    return [f"  {'PASS' if t['pass'] else 'FAIL'}  {t['name']}: {t['value']}  (target {t['target']})"
            for t in targets]


def finish(kind: str, result: dict[str, Any], verdicts: list[dict[str, Any]], out: Path, smoke: bool) -> int:
    """Write the result, print its path and the verdicts; the exit status (a smoke run never fails)."""
    path = write(kind, result, out)
    print(f"\nresult: {path}\n" + "\n".join(verdict_lines(verdicts)))
    if smoke:
        print("(smoke run: too short for the targets to mean anything)")
        return 0
    return 0 if all(t["pass"] for t in verdicts) else 1
