"""The running lab's record (``<state>/run/lab.json``): which processes, on which ports, under which pid.

Every other command (``status``, ``down``, the CLI's service client, the drill engine) reads it to find the
lab a learner started, whatever ports it was given.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from aiops_core import paths
from aiops_core.atomic import atomic_write
from aiops_core.topology import BY_NAME, LOOPBACK


@dataclass
class ComponentRecord:
    name: str
    port: int
    url: str
    health_url: str
    pid: int | None = None
    log: str = ""
    state: str = "starting"  # starting | healthy | unhealthy | exited | skipped
    detail: str = ""


@dataclass
class RunState:
    supervisor_pid: int
    mode: str
    started_at: str
    components: dict[str, ComponentRecord] = field(default_factory=dict)

    def save(self, path: Path | None = None) -> None:
        atomic_write(path or run_file(), json.dumps(asdict(self), indent=2))

    @classmethod
    def load(cls, path: Path | None = None) -> RunState | None:
        path = path or run_file()
        if not path.is_file():
            return None
        try:
            raw = json.loads(path.read_text())
            comps = {k: ComponentRecord(**v) for k, v in raw.pop("components", {}).items()}
            return cls(components=comps, **raw)
        except (ValueError, TypeError):
            return None

    def alive(self) -> bool:
        return pid_alive(self.supervisor_pid)


def run_dir(state: Path | None = None) -> Path:
    return (state or paths.state_dir()) / "run"


def config_dir(state: Path | None = None) -> Path:
    """Where ``aiops-lab up`` renders the monitoring config the running Prometheus and Alertmanager read
    (``prometheus.yml``, ``rules/*.yml``, ``alertmanager.yml``)."""
    return run_dir(state) / "config"


def run_file(state: Path | None = None) -> Path:
    return run_dir(state) / "lab.json"


def pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


TARGETS = ("native", "compose")


def target() -> str:
    """Which lab the tools act on: ``native`` (``aiops-lab up``) or ``compose`` (``AIOPS_TARGET``)."""
    value = os.environ.get("AIOPS_TARGET", "") or "native"
    if value not in TARGETS:
        raise ValueError(f"AIOPS_TARGET={value!r}: set it to native or compose")
    return value


def set_target(value: str) -> None:
    """Select the lab for this process and the processes it starts (``aiops-lab --target``)."""
    if value not in TARGETS:
        raise ValueError(f"unknown target {value!r}: use native or compose")
    os.environ["AIOPS_TARGET"] = value


# Where ``locate`` found a URL: ``AIOPS_<NAME>_URL``; the running native lab's record; the compose lab's
# published port (``AIOPS_TARGET=compose``); or the configured port with no lab to confirm it (a guess).
UrlSource = Literal["env", "lab", "compose", "default"]


def locate(name: str) -> tuple[str, UrlSource]:
    """Base URL of a component and where it came from: ``AIOPS_<NAME>_URL``, else the running lab's record,
    else its configured port. The source lets ``aiops-lab url`` tell a learner when the answer is only the
    default because no lab is recorded (the URL is then a guess that may reach another program or none)."""
    env_name = f"AIOPS_{name.upper().replace('-', '_')}_URL"
    if os.environ.get(env_name):
        return os.environ[env_name].rstrip("/"), "env"
    port_url = f"http://{LOOPBACK}:{BY_NAME[name].port()}"
    # The compose lab is reached through its published ports; a native lab.json here is another lab.
    if target() == "compose":
        return port_url, "compose"
    state = RunState.load()
    if state is not None and state.alive() and name in state.components:
        return state.components[name].url, "lab"
    return port_url, "default"


def component_url(name: str) -> str:
    """Base URL of a component: ``AIOPS_<NAME>_URL``, else the running lab's record, else its port."""
    return locate(name)[0]


def admin_token(state: Path | None = None, env: Mapping[str, str] | None = None) -> str | None:
    """``AIOPS_ADMIN_TOKEN``, else the token ``aiops-lab up`` wrote into the state dir (``state``: another lab's
    than this process's), else None. ``env``: that lab's environment instead of this process's (a thread
    acting on another lab must not read os.environ, which an in-process CLI run may be changing)."""
    token = (os.environ if env is None else env).get("AIOPS_ADMIN_TOKEN")
    if token:
        return token
    path = paths.admin_token_path(state)
    return path.read_text().strip() if path.is_file() else None
