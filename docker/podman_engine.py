"""The container engine for docker/podman_stack.py: rootful Podman 4.3 + runc, its Docker API, health checks.

Why a private ``containers.conf`` (``CONTAINERS_CONF``): crun fails on these machines' hybrid cgroups
("cgroups in hybrid mode not supported"), no container starts without explicit nofile/nproc ulimits, and
there is no systemd (so: cgroupfs, file events). Why a health-check runner: Podman schedules HEALTHCHECKs
with systemd timers, so without systemd none runs, and ``depends_on: service_healthy`` / ``up --wait`` would
wait forever.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from aiops_core import http as lab_http

if TYPE_CHECKING:
    import httpx

WORKDIR = Path(os.environ.get("PODMAN_STACK_DIR", "/var/tmp/aiops-lab-podman"))
SOCKET = WORKDIR / "podman.sock"
APT_PACKAGES = ("podman", "mmdebstrap", "runc")
CONTAINERS_CONF = """\
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
"""
ULIMITS = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=4096:4096"]


def say(msg: str) -> None:
    print(f"==> {msg}", file=sys.stderr, flush=True)


def engine_env() -> dict[str, str]:
    """What every podman / docker-compose call of this stack runs with. The shell's ``AIOPS_*`` / ``COMPOSE_*``
    are dropped: compose lets them override the stack's env file (a test session's ports, a learner's .env)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIOPS_", "COMPOSE_"))}
    return {**env, "CONTAINERS_CONF": str(write_conf()), "DOCKER_HOST": f"unix://{SOCKET}"}


def write_conf() -> Path:
    """The private ``containers.conf``, written when it is missing.

    Why here and not only at install: podman refuses every command whose ``CONTAINERS_CONF`` names no file
    ("finding config on system"), and ``clean``/``down`` ran with ``check=False``, so after the work dir was
    removed (``clean`` itself, a /var/tmp cleanup, a reboot) while the images stayed in Podman's store, ``clean``
    removed nothing and said nothing.
    """
    path = WORKDIR / "containers.conf"
    if not path.is_file() or path.read_text() != CONTAINERS_CONF:
        WORKDIR.mkdir(parents=True, exist_ok=True)
        path.write_text(CONTAINERS_CONF)
    return path


def run(*cmd: str, check: bool = True, capture: bool = False, timeout: float = 1800) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, env=engine_env(), check=check, text=True, timeout=timeout, stdin=subprocess.DEVNULL,
                          capture_output=capture)

# --- install ---------------------------------------------------------------------------------------------
def install_reason() -> str | None:
    """Why Podman cannot be installed here (None: it is, or can be)."""
    if all(shutil.which(p) for p in APT_PACKAGES):
        return None
    if os.geteuid() != 0:
        return f"{', '.join(APT_PACKAGES)} are not installed and this is not root (rootful Podman is needed)"
    if not shutil.which("apt-get"):
        return f"{', '.join(APT_PACKAGES)} are not installed and there is no apt-get (Debian/Ubuntu only)"
    return None


def install() -> None:
    reason = install_reason()
    if reason:
        raise SystemExit(reason)
    missing = [p for p in APT_PACKAGES if not shutil.which(p)]
    if missing:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=True, env=env, stdout=subprocess.DEVNULL)
    write_conf()

# --- the engine's API and the health-check runner ---------------------------------------------------------
def _pid_alive(name: str) -> int | None:
    path = WORKDIR / f"{name}.pid"
    try:
        pid = int(path.read_text())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


def _spawn(name: str, *cmd: str) -> None:
    """A helper daemon in its own session, logging to WORKDIR/<name>.log, its pid in WORKDIR/<name>.pid."""
    if _pid_alive(name):
        return
    with open(WORKDIR / f"{name}.log", "ab") as log:
        proc = subprocess.Popen(cmd, env=engine_env(), stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    (WORKDIR / f"{name}.pid").write_text(str(proc.pid))


def _stop(name: str) -> None:
    pid = _pid_alive(name)
    if pid:
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and _pid_alive(name):
            time.sleep(0.1)
    (WORKDIR / f"{name}.pid").unlink(missing_ok=True)


def api_client(timeout: float = 30) -> httpx.Client:
    """A keep-alive client on the stack's socket, for a caller that asks many times."""
    import httpx

    return lab_http.new_client(transport=httpx.HTTPTransport(uds=str(SOCKET)), base_url="http://podman",
                               timeout=timeout)


def api(path: str, timeout: float = 30, client: httpx.Client | None = None) -> object:
    """GET the libpod API on the stack's socket (JSON); on ``client`` when given, else on a new one."""
    if client is None:
        with api_client(timeout) as fresh:
            return api(path, timeout, fresh)
    resp = client.get(f"/v4.0.0/libpod{path}")
    resp.raise_for_status()
    return resp.json() if resp.headers.get("content-type", "").startswith("application/json") else resp.text


def start_api() -> None:
    """``podman system service`` on a private socket: the Docker API docker-compose and the SDK talk to."""
    _spawn("api", "podman", "system", "service", "--time=0", f"unix://{SOCKET}")
    deadline = time.monotonic() + 30
    while True:
        try:
            api("/_ping")
            return
        except Exception:
            if time.monotonic() > deadline:
                raise SystemExit(f"the Podman API did not answer on {SOCKET}; see {WORKDIR / 'api.log'}") from None
            time.sleep(0.2)


def run_healthchecks(project: str) -> None:
    """Forever: run each running container's HEALTHCHECK of ``project`` at its interval (the first at once,
    as Docker's start-up probing does), through libpod's ``/healthcheck`` -- what Podman's systemd timer
    would run.

    One keep-alive client and a listing a second: with a new client per call and a listing every 0.5 s this
    runner alone took 5.7 CPU-s a minute, more than the six containers it watches together."""
    filters = json.dumps({"label": [f"com.docker.compose.project={project}"], "status": ["running"]})
    due: dict[str, float] = {}
    intervals: dict[str, float] = {}
    client = api_client()
    while True:
        now = time.monotonic()
        try:
            running = {c["Id"] for c in api(f"/containers/json?filters={filters}", client=client)}  # type: ignore[union-attr]
            for cid in running - intervals.keys():
                inspected = api(f"/containers/{cid}/json", client=client)
                check = inspected["Config"].get("Healthcheck") or {}  # type: ignore[index]
                intervals[cid] = (check.get("Interval") or 0) / 1e9 if check.get("Test") else 0.0
                due[cid] = now + 1.0
            for cid in set(intervals) - running:
                intervals.pop(cid)
                due.pop(cid)
            for cid in running:
                if intervals[cid] and due[cid] <= now:
                    due[cid] = now + intervals[cid]
                    api(f"/containers/{cid}/healthcheck", client=client)
        except Exception as exc:  # e.g. a container that stopped between listing and probing: next round
            print(f"healthcheck round: {exc!r}", flush=True)
            client.close()
            client = api_client()
        time.sleep(1.0)
