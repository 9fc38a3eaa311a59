"""A game day for tests: the GM's terminal and one terminal per responder, each its own ``AIOPS_GAMEDAY_HOME``
(where ``incident join`` saves the token), all on one lab's state dir -- as on one shared host.

Commands go through the real CLI, in-process (``Lab.run``; ``Lab.cli`` for a separate process). The game day
server is the real one, on a free loopback port it bound itself; ``stop`` ends it if the test did not.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil

from aiops_core import http as lab_http
from aiops_core.polling import wait_until
from tests.support.lab import Lab
from tests.support.speed import scaled

TOKEN = re.compile(r"--token (gd_[A-Za-z0-9_-]+)")


@dataclass
class Done:
    """What a terminal saw: ``subprocess.CompletedProcess``'s fields, for the in-process CLI too."""

    returncode: int
    stdout: str
    stderr: str


def run(lab: Lab, *args: str, subprocess: bool = False) -> Done:
    """``aiops-lab ARGS`` in-process (``Lab.run``): the real CLI without an interpreter start-up per command,
    which made a four-player game 3x slower as subprocesses. ``subprocess``: a separate process (``Lab.cli``),
    as the drill pool's worker threads need -- the in-process CLI swaps the process's environment."""
    if subprocess:
        done = lab.cli(*args)
        return Done(done.returncode, done.stdout, done.stderr)
    result = lab.run(*args)
    return Done(result.exit_code, result.stdout, result.stderr)


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


@dataclass
class Team:
    gm: Lab
    home: Path
    subprocess: bool = False  # every command as its own process (Lab.cli) instead of in-process
    players: dict[str, Lab] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def server(self) -> dict[str, Any]:
        return dict(json.loads((self.gm.state / "gameday" / "server.json").read_text()))

    @property
    def url(self) -> str:
        return str(self.server["url"])

    def gm_cli(self, *args: str) -> Done:
        return run(self.gm, *args, subprocess=self.subprocess)

    def start(self, *args: str) -> Done:
        done = run(self.gm, "gameday", "start", "--gm", *args, subprocess=self.subprocess)
        assert done.returncode == 0, done.stdout + done.stderr
        return done

    def invite(self, role: str, name: str) -> str:
        done = run(self.gm, "gameday", "invite", "--role", role, "--name", name, subprocess=self.subprocess)
        assert done.returncode == 0, done.stdout + done.stderr
        token = TOKEN.search(done.stdout)
        assert token, done.stdout
        self.tokens[name] = token.group(1)
        return token.group(1)

    def join(self, role: str, name: str) -> Lab:
        token = self.invite(role, name)
        player = Lab({**self.gm.env, "AIOPS_GAMEDAY_HOME": str(self.home / name)})
        done = run(player, "incident", "join", "--role", role, "--token", token, subprocess=self.subprocess)
        assert done.returncode == 0, done.stdout + done.stderr
        self.players[name] = player
        return player

    def as_(self, name: str, *args: str) -> Done:
        return run(self.players[name], *args, subprocess=self.subprocess)

    def api(self, method: str, path: str, token: str | None, **kwargs: Any) -> httpx.Response:
        headers = {**({"Authorization": f"Bearer {token}"} if token else {}), **kwargs.pop("headers", {})}
        return lab_http.send(method, self.url + path, headers=headers, timeout=scaled(10),
                             **kwargs)

    def gm_token(self) -> str:
        return str(json.loads((self.home / "gm" / "gameday-gm.json").read_text())["token"])

    def stop(self) -> None:
        """End the server if it still runs (a failed test), and wait for it to be gone."""
        with contextlib.suppress(OSError, ValueError):
            pid = int(self.server["pid"])
            if alive(pid):
                os.kill(pid, signal.SIGTERM)
                wait_until(lambda: not alive(pid), timeout=scaled(15), what="the game day server to exit")


@contextlib.contextmanager
def team(lab: Lab, home: Path, subprocess: bool = False) -> Iterator[Team]:
    """A game day on ``lab``'s state dir; the GM's token lives under ``home/gm``."""
    t = Team(Lab({**lab.env, "AIOPS_GAMEDAY_HOME": str(home / "gm")}), home, subprocess)
    try:
        yield t
    finally:
        t.stop()
