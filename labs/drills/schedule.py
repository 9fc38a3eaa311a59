"""When each fault of a drill starts: at once, ``after`` a delay, or at a random moment of a ``window``.

``drill start`` is a short-lived command, so the faults that are due later are injected by a small process
of their own (``python -m labs.drills.schedule --run-id RUN``), tracked in the journal (``scheduler_pid``)
like the drill's traffic. The moments are drawn once, at the injection, from a seed recorded in the journal
(``schedule_seed``, ``schedule``): the report says when each fault was due and when it really started.

``drill stop`` cancels the scheduler *before* rolling back (``cancel``), so no fault can land on a lab that
is being restored; a fault already injected has its rollback in the journal (planned before the injection,
see ``labs.drills.faults``), and the journal's merge-on-save keeps it whatever the CLI wrote meanwhile.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from aiops_core.process_group import stop_group
from labs.drills import faults
from labs.drills import journal as jr
from labs.drills.fault_types import Fault
from labs.drills.journal import Journal
from labs.drills.schema import Drill

POLL_S = 0.5  # how late a delayed fault may start, at most (plus the injection's own API calls)
STOP_TIMEOUT_S = 10.0
MODULE = "labs.drills.schedule"


def _clock(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%H:%M:%S") + "Z"


def plan(j: Journal, drill: Drill) -> list[Fault]:
    """Draw every fault's start (seeded; recorded in ``j``) and return the faults due at once, in order."""
    assert j.injected_at is not None, "the schedule counts from the injection moment"
    if j.schedule_seed is None:
        j.schedule_seed = random.SystemRandom().randrange(2**31)
    rng = random.Random(j.schedule_seed)
    now: list[Fault] = []
    for i, fault in enumerate(drill.faults):
        delay = fault.after + (rng.uniform(0.0, fault.window) if fault.window else 0.0)
        j.schedule.append({"index": i, "type": fault.type, "after_s": fault.after, "window_s": fault.window,
                           "delay_s": round(delay, 3), "due_at": j.injected_at + delay})
        if delay <= 0:
            now.append(fault)
            continue
        drawn = f", drawn in [{fault.after:g} s, {fault.after + fault.window:g} s] with seed {j.schedule_seed}" \
            if fault.window else ""
        j.add("schedule", f"fault {i + 1} ({fault.type}) due at {_clock(j.injected_at + delay)}, "
                          f"+{delay:.1f} s after the injection{drawn}", schedule_index=i)
    jr.save(j)
    return now


def pending(j: Journal) -> list[dict]:
    """Scheduled faults neither injected nor given up on yet (read from the timeline, which merges)."""
    done = {e.data.get("schedule_index") for e in j.events if e.kind in ("injection", "schedule_failed",
                                                                          "schedule_cancelled")}
    return [s for s in j.schedule if s["delay_s"] > 0 and s["index"] not in done]


def spawn_if_needed(j: Journal) -> int | None:
    """Start the scheduler process when some fault is due later; its pid goes into the journal."""
    if not pending(j):
        return None
    log = (jr.drills_dir() / "scheduler.log").open("wb")
    try:
        proc = subprocess.Popen([sys.executable, "-m", MODULE, "--run-id", j.run_id], stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
                                env=os.environ.copy())
    finally:
        log.close()
    j.scheduler_pid = proc.pid
    jr.save(j)
    return proc.pid


def is_scheduler(pid: int) -> bool:
    try:
        return MODULE.encode() in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def cancel(j: Journal) -> None:
    """Stop the scheduler (checked by command line: a reused pid is left alone), take in what it wrote,
    and note every fault that will now never start."""
    stop_group(j.scheduler_pid, is_scheduler, STOP_TIMEOUT_S, poll=0.05)
    jr.save(j)  # merges the injections the scheduler recorded before it stopped
    for entry in pending(j):
        j.add("schedule_cancelled", f"fault {entry['index'] + 1} ({entry['type']}) cancelled: the drill stopped "
                                    f"before it was due at {_clock(entry['due_at'])}", schedule_index=entry["index"])
    jr.save(j)


def _inject(j: Journal, drill: Drill, entry: dict) -> None:
    fault = drill.faults[entry["index"]]
    label = f"fault {entry['index'] + 1} ({fault.type}) injected at {_clock(time.time())}, " \
            f"+{time.time() - (j.injected_at or j.started_at):.1f} s after the injection"
    try:
        faults.inject(j, fault, label=label, schedule_index=entry["index"])
    except Exception as exc:  # the drill goes on; the timeline says this fault never started
        j.add("schedule_failed", f"fault {entry['index'] + 1} ({fault.type}) could not be injected: {exc}",
              schedule_index=entry["index"])
        jr.save(j)


def run(run_id: str) -> None:
    """Inject each pending fault when it is due; exit when none is left or the drill is gone or stopped."""
    drill: Drill | None = None
    while True:
        try:
            j = jr.load_current()
        except ValueError:
            time.sleep(POLL_S)  # being rewritten this instant
            continue
        if j is None or j.run_id != run_id or j.status == "stopped":
            return
        if drill is None:
            from labs.drills import catalogue

            drill = catalogue.get(j.drill_id, deep=True, file=j.drill_file)
        left = pending(j)
        if not left:
            return
        entry = min(left, key=lambda s: s["due_at"])
        wait = entry["due_at"] - time.time()
        if wait > 0:
            time.sleep(min(wait, POLL_S))
            continue
        # Read and inject under the journal's lock: a copy read before a `drill check` passed would, once
        # saved, undo its verdict (the merge keeps appended entries, not the other fields).
        with jr.locked():
            j = jr.load_current()
            if j is None or j.run_id != run_id or j.status == "stopped":
                return
            if entry["index"] in {s["index"] for s in pending(j)}:
                _inject(j, drill, entry)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run-id", required=True, help="The drill run whose delayed faults to inject.")
    args = parser.parse_args(argv)
    run(args.run_id)


if __name__ == "__main__":
    main()
