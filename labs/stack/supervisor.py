"""The native lab's supervisor: starts every component, watches it, restarts on request, stops all cleanly.

It runs as its own background process (``python -m labs.stack``) so that ``aiops-lab up`` in one terminal
and ``status`` / ``down`` / ``service restart`` / drills in others all talk to the same owner of the children.
Crashed components are *not* restarted automatically: like a bare VM without an orchestrator, a crash
stays down until someone runs ``aiops-lab service restart`` -- that is what the crash drill teaches.

Control requests are JSON files dropped in ``run/control/`` (``{"action": "restart", "component": ...}``);
the answer is written next to them as ``<id>.done``. Files need no ports and survive a busy event loop.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from aiops_core.atomic import atomic_write
from aiops_core.http import NOT_IDENTIFIED, component_problem
from aiops_core.port_owner import is_ours, port_owner
from aiops_core.runstate import ComponentRecord, RunState, run_dir
from labs.stack.plan import ProcessSpec

HEALTH_TIMEOUT_S = 90.0
STOP_GRACE_S = 15.0


def port_in_use(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def stop_process(proc: subprocess.Popen, grace: float = STOP_GRACE_S) -> int | None:
    """SIGTERM (plus SIGCONT, in case a drill paused it), then SIGKILL after the grace period."""
    if proc.poll() is not None:
        return proc.returncode
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        os.killpg(proc.pid, signal.SIGCONT)
    except ProcessLookupError:
        pass
    try:
        return proc.wait(grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        return proc.wait(5)


def _by(port: int) -> str:
    """`` by pid N (command)`` when the OS says who listens on ``port``, else nothing."""
    owner = port_owner(port)
    return f" by {owner}" if owner is not None else ""


class Supervisor:
    def __init__(self, specs: list[ProcessSpec], mode: str, directory: Path | None = None) -> None:
        self.specs = {s.name: s for s in specs}
        self.dir = directory or run_dir()
        self.logs = self.dir / "logs"
        self.control = self.dir / "control"
        self.procs: dict[str, subprocess.Popen] = {}
        self.state = RunState(os.getpid(), mode, datetime.now(UTC).isoformat())
        self._lock = threading.Lock()
        self.stopping = threading.Event()
        for spec in specs:
            self.state.components[spec.name] = ComponentRecord(
                spec.name, spec.port, spec.url, spec.url + spec.health_path,
                log=str(self.logs / f"{spec.name}.log"),
                state="skipped" if spec.argv is None else "starting", detail=spec.skip_reason)

    def _save(self) -> None:
        with self._lock:
            self.state.save(self.dir / "lab.json")

    def _set(self, name: str, state: str, detail: str = "", pid: int | None = None) -> None:
        rec = self.state.components[name]
        rec.state, rec.detail = state, detail
        if pid is not None:
            rec.pid = pid
        self._save()

    # --- lifecycle -----------------------------------------------------------------------------
    def start(self, name: str) -> None:
        spec = self.specs[name]
        if spec.argv is None:
            return
        if port_in_use(spec.port):
            env_name = f"AIOPS_{name.upper().replace('-', '_')}_PORT"
            self._set(name, "failed", f"port {spec.port} is already in use{_by(spec.port)}; stop what uses it "
                      f"or set {env_name}")
            return
        self.logs.mkdir(parents=True, exist_ok=True)
        log = (self.logs / f"{name}.log").open("ab")
        env = {**os.environ, **spec.env}
        try:
            proc = subprocess.Popen(spec.argv, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    start_new_session=True)
        except OSError as exc:
            self._set(name, "failed", f"could not start {spec.argv[0]}: {exc}")
            return
        finally:
            log.close()
        self.procs[name] = proc
        self._set(name, "starting", pid=proc.pid)

    def wait_healthy(self, name: str, timeout: float = HEALTH_TIMEOUT_S) -> bool:
        spec, proc = self.specs[name], self.procs.get(name)
        if proc is None:
            return False
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.stopping.is_set():
            if proc.poll() is not None:
                held = f"; port {spec.port} is held by another process{_by(spec.port)}" \
                    if port_in_use(spec.port) else ""
                self._set(name, "exited",
                          f"exited with code {proc.returncode} during start-up{held}; see {self.logs / name}.log")
                return False
            problem = component_problem(name, spec.url + spec.health_path, timeout=1.0)
            if problem is None:
                self._set(name, "healthy")
                return True
            if problem.startswith(NOT_IDENTIFIED) and self._squatted(name, proc):
                return False
            time.sleep(0.2)
        self._set(name, "unhealthy", f"no healthy answer from {spec.health_path} within {timeout:.0f}s")
        return False

    def _squatted(self, name: str, proc: subprocess.Popen) -> bool:
        """Another process answers on the component's port (it bound it between our port check and our
        child's start): stop our child, which cannot bind, and name the squatter. False while the owner
        cannot be told (the OS hides it): the child's exit names the port then."""
        spec = self.specs[name]
        owner = port_owner(spec.port)
        if owner is None or is_ours(owner, proc.pid):
            return False
        self.procs.pop(name, None)
        stop_process(proc)
        self._set(name, "failed", f"port {spec.port} is answered by {owner}, not by the {name} this lab started; "
                  f"stop it (kill {owner.pid}), then: aiops-lab service restart {name}")
        return True

    def start_all(self) -> None:
        for name in self.specs:
            if self.stopping.is_set():
                return
            self.start(name)
            self.wait_healthy(name)

    def stop(self, name: str) -> None:
        proc = self.procs.pop(name, None)
        if proc is not None:
            code = stop_process(proc)
            self._set(name, "stopped", f"exit code {code}")

    def stop_all(self) -> None:
        for name in reversed(list(self.specs)):
            self.stop(name)

    def restart(self, name: str) -> dict[str, object]:
        if name not in self.specs or self.specs[name].argv is None:
            return {"ok": False, "error": f"{name} is not a running component of this lab"}
        self.stop(name)
        self.start(name)
        healthy = self.wait_healthy(name)
        rec = self.state.components[name]
        return {"ok": healthy, "pid": rec.pid, "state": rec.state, "detail": rec.detail}

    # --- watch loop ----------------------------------------------------------------------------
    def watch(self) -> None:
        """Report exits and serve control requests until asked to stop."""
        while not self.stopping.wait(0.3):
            for name, proc in list(self.procs.items()):
                rec = self.state.components[name]
                if proc.poll() is not None and rec.state not in ("exited", "stopped"):
                    self._set(name, "exited", f"exited with code {proc.returncode}; "
                              "restart it with: aiops-lab service restart" if name == "model-service"
                              else f"exited with code {proc.returncode}")
            self._serve_control()

    def _serve_control(self) -> None:
        if not self.control.is_dir():
            return
        for req in sorted(self.control.glob("*.json")):
            try:
                request = json.loads(req.read_text())
                action, name = request["action"], request["component"]
            except (ValueError, KeyError, OSError):
                result: dict[str, object] = {"ok": False, "error": f"malformed control request {req.name}"}
            else:
                if action == "restart":
                    result = self.restart(name)
                elif action == "stop":
                    self.stop(name)
                    result = {"ok": True}
                elif action == "start":
                    self.start(name)
                    result = {"ok": self.wait_healthy(name)}
                else:
                    result = {"ok": False, "error": f"unknown action {action!r}"}
            req.with_suffix(".done").write_text(json.dumps(result))
            req.unlink(missing_ok=True)


def request(action: str, component: str, timeout: float = 120.0) -> dict[str, object]:
    """Ask the running supervisor to act on a component and wait for its answer."""
    control = run_dir() / "control"
    control.mkdir(parents=True, exist_ok=True)
    req_id = f"{time.time_ns()}-{os.getpid()}"
    atomic_write(control / f"{req_id}.json", json.dumps({"action": action, "component": component}))
    done = control / f"{req_id}.done"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if done.is_file():
            result = json.loads(done.read_text())
            done.unlink(missing_ok=True)
            return result
        time.sleep(0.1)
    return {"ok": False, "error": f"the supervisor did not answer within {timeout:.0f}s"}
