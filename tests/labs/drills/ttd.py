"""The measured time to detect of every drill: a table at the end of the run, and JSON for the release note
(written to ``$AIOPS_DRILL_TTD_OUT`` when set). ``at`` is when the job started, in seconds into the pool: the
schedule, to see which jobs make the pool's tail."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from tests.labs.drills.plan import DrillResult
from tests.labs.drills.pool import Pool

LINES: list[str] = []  # printed by tests/labs/drills/conftest.py in the terminal summary


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}s"


def record(pool: Pool, labs: int) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    for job in pool.jobs.values():
        if not job.future.done():
            rows.append({"job": job.name, "status": "not finished"})
            continue
        exc = job.future.exception()
        value = None if exc is not None else job.future.result()
        row: dict[str, Any] = {"job": job.name, "lab": job.lab, "seconds": round(job.seconds, 1),
                               "at": round(job.started - pool.started_at, 1),
                               "status": "passed" if exc is None else "failed"}
        if isinstance(value, DrillResult):
            row.update(value.as_dict())
        elif exc is not None:
            row["error"] = str(exc).split("\n", 1)[0]
        rows.append(row)
    wall = (pool.finished_at or time.monotonic()) - pool.started_at
    data = {"labs": labs, "pool_seconds": round(wall, 1), "jobs": rows}
    LINES.clear()
    LINES.append(f"drills end to end: {labs} labs, pool wall time {wall:.0f}s")
    LINES.append(f"{'drill / job':<36} {'lab':<5} {'status':<7} {'first page':<33} {'TTD':>5} {'TTM':>5} "
                 f"{'score':>5} {'took':>5} {'at':>5}")
    for row in sorted(rows, key=lambda r: (r.get("drill") is None, r["job"])):
        LINES.append(f"{row['job']:<36} {row.get('lab', ''):<5} {row['status']:<7} {row.get('page') or '':<33} "
                     f"{_fmt(row.get('ttd_s')):>5} {_fmt(row.get('ttm_s')):>5} {row.get('score', '')!s:>5} "
                     f"{_fmt(row.get('seconds')):>5} {_fmt(row.get('at')):>5}")
    out = os.environ.get("AIOPS_DRILL_TTD_OUT")
    if out:
        Path(out).write_text(json.dumps(data, indent=2) + "\n")
        LINES.append(f"written to {out}")
    return data
