"""``python -m labs.stack --mode lab``: the supervisor process that ``aiops-lab up`` starts in the background."""

from __future__ import annotations

import argparse
import signal
import sys

from aiops_core.runstate import run_dir
from labs.stack.plan import build_plan
from labs.stack.supervisor import Supervisor
from monitoring.render import MODES


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m labs.stack")
    parser.add_argument("--mode", choices=MODES, default="lab")
    args = parser.parse_args()
    supervisor = Supervisor(build_plan(args.mode), args.mode)

    def _stop(signum: int, _frame: object) -> None:
        supervisor.stopping.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    supervisor._save()
    try:
        supervisor.start_all()
        supervisor.watch()
    finally:
        supervisor.stop_all()
        (run_dir() / "lab.json").unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
