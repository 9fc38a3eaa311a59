"""The compose stack on a real container engine (Podman's Docker API) for the ``containers`` tests.

Building the images takes minutes on a fresh machine (docs/compose.md has the measured times), most of it
waiting on downloads and unpacking, so -- like the drill pool -- the stack starts **with the session**
(``tests/conftest.py``) in a background thread running ``docker/podman_stack.py up``. The same thread then
plays what the ``containers`` tests prove (``tests/compose/podman_scenario.py``: mostly waiting for a
heartbeat, a page, a check) beside the rest of the suite; the tests, at the end (before the pool's), report
each step's outcome. The last step takes the stack down; the session's end runs ``down`` again as a safety
net.

Where Podman cannot be installed (not root, no apt-get) or Compose v2's binary is missing, the tests skip
with that reason; everything else that goes wrong fails them.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from aiops_core.paths import REPO_ROOT
from tests.support import speed

sys.path.insert(0, str(REPO_ROOT / "docker"))
import podman_engine  # docker/podman_engine.py: the engine set-up the script uses
import podman_stack  # docker/podman_stack.py, the script under test

SCRIPT = REPO_ROOT / "docker" / "podman_stack.py"
# A fresh machine: apt install ~40 s, base ~40 s, stand-ins ~4 s, project image ~2.5-4.5 min, up ~30 s; doubled
# for a loaded machine, then stretched with the load like every CPU-bound deadline.
UP_DEADLINE_S = 20 * 60
STEPS_DEADLINE_S = 10 * 60  # all of podman_scenario's steps after ``up``: ~2-3 min measured
BUILD_NICE = 10


def skip_reason() -> str | None:
    """Why this machine cannot run the containers tests (None: it can)."""
    reason = podman_engine.install_reason()
    if reason:
        return reason
    compose = shutil.which("docker-compose") or Path(sys.executable).with_name("docker-compose")
    if not Path(compose).is_file():
        return "no docker-compose binary (Compose v2 comes with the test extra on linux x86_64 only)"
    return None


@dataclass
class Started:
    returncode: int | None = None
    seconds: float = 0.0
    log: Path = podman_engine.WORKDIR / "up.log"


@dataclass
class Step:
    """One step of ``podman_scenario.STEPS``, played by the background thread once the stack is up."""

    name: str
    run: Callable[[Path], str]
    future: Future[str] = field(default_factory=Future)


class Background:
    """``podman_stack.py up`` in a thread, then the scenario's steps (``tests/compose/podman_scenario.py``);
    ``wait()`` returns when ``up`` finished (or fails the asking test), ``outcome(step)`` when that step did."""

    def __init__(self, steps: list[tuple[str, Callable[[Path], str]]], start: bool = True) -> None:
        self.result = Started()
        self.reason = skip_reason()
        self.steps = {name: Step(name, run) for name, run in steps}
        self._up_done = threading.Event()
        self._thread = threading.Thread(target=self._up, name="podman-stack-up", daemon=True)
        if self.reason is None and start:
            self._thread.start()

    def _up(self) -> None:
        """The images build at ``nice`` 10: ~230 CPU-s with no deadline but the containers tests at the end of
        the session, while the drill pool's jobs and the other tests have deadlines. (The build used to hold the
        pool's CPU gate instead: the heavy drills then waited for all of it, and the pool took 940 s, not 590.)
        The stack itself runs at normal priority: its drill has a page to wait for."""
        start = time.monotonic()
        try:
            podman_engine.WORKDIR.mkdir(parents=True, exist_ok=True)
            with open(self.result.log, "w") as log:
                done = subprocess.run([sys.executable, str(SCRIPT), "up", "--build-nice", str(BUILD_NICE)],
                                      stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                      timeout=UP_DEADLINE_S, check=False)
            self.result.returncode = done.returncode
        except BaseException as exc:  # killed at its deadline, or could not start: its log and this say why
            with open(self.result.log, "a") as log:
                log.write(f"\n[container_stack] {type(exc).__name__}: {exc}\n")
        finally:
            self.result.seconds = time.monotonic() - start
            self._up_done.set()
        self._play()

    def _play(self) -> None:
        """Every step in order, each with its outcome in its future; a failed ``up`` fails them all at once."""
        if self.result.returncode != 0:
            for step in self.steps.values():
                step.future.set_exception(AssertionError(f"docker/podman_stack.py up failed: see {self.result.log}"))
            return
        with tempfile.TemporaryDirectory(prefix="compose-host-") as state:
            for step in self.steps.values():
                try:
                    step.future.set_result(step.run(Path(state)))
                except BaseException as exc:  # reported by the step's test, with its traceback
                    step.future.set_exception(exc)

    def wait(self) -> Started:
        if self.reason is not None:
            pytest.skip(self.reason)
        self._up_done.wait(UP_DEADLINE_S * speed.slowdown())
        assert self._up_done.is_set(), f"docker/podman_stack.py up still runs; see {self.result.log}"
        tail = "".join(self.result.log.read_text().splitlines(keepends=True)[-40:])
        assert self.result.returncode == 0, f"docker/podman_stack.py up failed:\n{tail}"
        return self.result

    def outcome(self, name: str) -> str:
        """The step's summary once it ran, or its failure raised here, in the test that reports it."""
        self.wait()
        step = self.steps[name]
        try:
            return step.future.result(timeout=STEPS_DEADLINE_S * speed.slowdown())
        except TimeoutError:
            pytest.fail(f"the compose scenario's step {name!r} did not finish in time", pytrace=False)


BACKGROUND: Background | None = None


def start() -> Background:
    global BACKGROUND
    if BACKGROUND is None:
        from tests.compose import podman_scenario  # it uses this module's helpers

        BACKGROUND = Background(podman_scenario.STEPS)
    return BACKGROUND


def finish() -> None:
    """Safety net at the session's end: whatever the tests did, nothing of the stack keeps running."""
    if BACKGROUND is not None and BACKGROUND.reason is None:
        BACKGROUND._thread.join(UP_DEADLINE_S)
        subprocess.run([sys.executable, str(SCRIPT), "down"], capture_output=True, timeout=300, check=False)


def timings() -> dict[str, float]:
    path = podman_engine.WORKDIR / "timings.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def compose(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """``docker compose`` against the stack, as a learner types it (plus the podman override)."""
    return subprocess.run([*podman_stack.compose_cmd(), *args], env=podman_engine.engine_env(), capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def host_env(state: Path) -> dict[str, str]:
    """The learner's shell on the host after ``set -a; . ./.env; set +a``: ports, token, the Docker socket."""
    from tests.support.lab import lab_environment

    values = podman_stack.shell_env()  # every component's port, Grafana's and Locust's too (nothing listens)
    return lab_environment(state, {k: v for k, v in values.items() if k.endswith("_PORT")},
                           **{k: v for k, v in values.items() if not k.endswith("_PORT")})


def port(name: str) -> int:
    return int(podman_stack.shell_env()[f"AIOPS_{name.upper().replace('-', '_')}_PORT"])


def url(name: str) -> str:
    return f"http://127.0.0.1:{port(name)}"

