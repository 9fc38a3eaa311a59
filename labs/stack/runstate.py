"""The running lab's record (``<state>/run/lab.json``): which processes, on which ports, under which pid.

Every other command (``status``, ``down``, the CLI's service client, the drill engine) reads it to find the
lab a learner started, whatever ports it was given.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from labs import paths
from labs.topology import BY_NAME, LOOPBACK


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
        path = path or run_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2))
        os.replace(tmp, path)

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


def run_dir() -> Path:
    return paths.state_dir() / "run"


def run_file() -> Path:
    return run_dir() / "lab.json"


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


def component_url(name: str) -> str:
    """Base URL of a component: the running lab's record first, then env/default ports."""
    env_name = f"AIOPS_{name.upper().replace('-', '_')}_URL"
    if os.environ.get(env_name):
        return os.environ[env_name].rstrip("/")
    # The compose lab is reached through its published ports; a native lab.json here is another lab.
    state = None if os.environ.get("AIOPS_TARGET") == "compose" else RunState.load()
    if state is not None and state.alive() and name in state.components:
        return state.components[name].url
    return f"http://{LOOPBACK}:{BY_NAME[name].port()}"
