"""Real processes on free loopback ports, always cleaned up."""

from __future__ import annotations

import contextlib
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from aiops_core import http as lab_http
from aiops_core.polling import wait_until
from tests.support.lab import lab_environment
from tests.support.ports import free_port
from tests.support.speed import scaled

__all__ = ["ADMIN_TOKEN", "ManagedProcess", "ProcessUnderTest", "ServiceUnderTest", "free_port", "lab_env",
           "start_http_process", "start_service"]

ADMIN_TOKEN = "test-admin-token-0123456789"


@dataclass
class ManagedProcess:
    """A child process with its log file; ``stop()`` is SIGTERM, then SIGKILL after a grace period."""

    args: Sequence[str]
    env: dict[str, str]
    log_path: Path
    proc: subprocess.Popen | None = None
    _log: object | None = field(default=None, repr=False)

    def start(self) -> ManagedProcess:
        self._log = self.log_path.open("ab")
        self.proc = subprocess.Popen(list(self.args), env=self.env, stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        return self

    def stop(self, timeout: float = 20.0) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self._log is not None:
            self._log.close()  # type: ignore[attr-defined]
        return self.proc.returncode

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def lab_env(state_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of one lab process: a private lab's (every component on a port of its own)."""
    return lab_environment(state_dir, **extra)


@dataclass
class ProcessUnderTest:
    """A real lab process serving HTTP on a free loopback port."""

    state_dir: Path
    port: int
    process: ManagedProcess

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def start_http_process(module: str, name: str, state_dir: Path, env: dict[str, str], port: int,
                       health_path: str = "/healthz", timeout: float = 20.0) -> ManagedProcess:
    """``python -m module`` with ``env``; waits until ``health_path`` answers 200, failing fast (with the
    process's log) if it exits first."""
    state_dir.mkdir(parents=True, exist_ok=True)
    proc = ManagedProcess([sys.executable, "-m", module], env, state_dir / f"{name}-{port}.log").start()

    def up() -> bool:
        if proc.proc is not None and proc.proc.poll() is not None:
            raise AssertionError(f"{name} exited early:\n{proc.output()[-3000:]}")
        return lab_http.get(f"http://127.0.0.1:{port}{health_path}", timeout=1.0).status_code == 200

    wait_until(up, timeout=scaled(timeout), what=f"{name} on port {port}")
    return proc


@dataclass
class ServiceUnderTest(ProcessUnderTest):
    """The real model service under uvicorn on a free loopback port."""

    @property
    def admin_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {ADMIN_TOKEN}"}

    def client(self) -> httpx.Client:
        return lab_http.new_client(base_url=self.url, timeout=10.0)


def start_service(state_dir: Path, port: int | None = None, wait_ready: bool = True,
                  admin_token: str | None = ADMIN_TOKEN, **env_extra: str) -> ServiceUnderTest:
    port = port or free_port()
    env = lab_env(state_dir, AIOPS_PORT=str(port), **env_extra)
    if admin_token is not None:
        env["AIOPS_ADMIN_TOKEN"] = admin_token
    proc = start_http_process("model_service", "model service", state_dir, env, port,
                              "/readyz" if wait_ready else "/healthz", timeout=30)
    return ServiceUnderTest(state_dir, port, proc)


@contextlib.contextmanager
def service_with_registry(state_dir: Path, registry: Path) -> Iterator[ServiceUnderTest]:
    """A real service whose state starts with a copy of ``registry`` (the session's trained models), stopped
    afterwards."""
    shutil.copytree(registry, state_dir / "models")
    svc = start_service(state_dir)
    try:
        yield svc
    finally:
        svc.process.stop()
