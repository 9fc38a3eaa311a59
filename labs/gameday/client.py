"""The game day server's client, and where each participant's token lives between commands.

A token is saved per Unix user (``$XDG_CONFIG_HOME/aiops-lab/gameday-<kind>.json``, mode 0600; the directory
moves with ``AIOPS_GAMEDAY_HOME``), one file for the GM's token and one for a responder's, so a GM who also
tries the responder's view on one account does not lose the GM token. ``AIOPS_GAMEDAY_TOKEN`` (and
``AIOPS_GAMEDAY_URL``) override the responder's file: several teammates in terminals of *one* account each
export their own token instead of overwriting one file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, ClassVar, Literal

from aiops_core.errors import LabError, NotRunning
from aiops_core.http import ApiClient
from labs.gameday.launcher import server_record

Kind = Literal["gm", "responder"]
TOKEN_ENV, URL_ENV = "AIOPS_GAMEDAY_TOKEN", "AIOPS_GAMEDAY_URL"
SLOW_TIMEOUT_S = 300.0  # /gm/end stops the drill and writes reports; /gm/inject may build a model


def credentials_dir() -> Path:
    raw = os.environ.get("AIOPS_GAMEDAY_HOME")
    if raw:
        return Path(raw).expanduser()
    xdg = os.environ.get("XDG_CONFIG_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".config") / "aiops-lab"


def credentials_path(kind: Kind) -> Path:
    return credentials_dir() / f"gameday-{kind}.json"


def save_credentials(kind: Kind, url: str, token: str) -> Path:
    """Write the token readable by this user only: created 0600, never briefly wider."""
    path = credentials_path(kind)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump({"url": url, "token": token}, fh)
    os.chmod(path, 0o600)  # an older file with wider permissions is narrowed too
    return path


def _saved(kind: Kind) -> dict[str, str]:
    try:
        return dict(json.loads(credentials_path(kind).read_text()))
    except (OSError, ValueError):
        return {}


def local_url() -> str | None:
    record = server_record()
    return str(record["url"]) if record else None


class GamedayClient(ApiClient):
    component: ClassVar[str] = "gameday"
    start_hint: ClassVar[str] = ("is the game day still being served? the GM starts one with: aiops-lab gameday "
                                 "start --gm (or restarts it: aiops-lab gameday resume)")

    def __init__(self, url: str, token: str, timeout: float = 15.0) -> None:
        super().__init__(url, timeout)
        self.token = token

    @classmethod
    def for_(cls, kind: Kind) -> GamedayClient:
        """The client for this terminal's participant of ``kind``, or an error that says how to join."""
        saved = _saved(kind)
        token = (os.environ.get(TOKEN_ENV) if kind == "responder" else None) or saved.get("token")
        if not token:
            raise LabError("no game day token: join with 'aiops-lab incident join --role ROLE --token T' (the GM "
                           f"gives you T) or set {TOKEN_ENV}" if kind == "responder" else
                           "no game master token here: start a game with 'aiops-lab gameday start --gm'")
        # The GM is on the lab's host: the server's own record wins over a saved URL from before a resume.
        url = (os.environ.get(URL_ENV) or saved.get("url") or local_url() if kind == "responder"
               else local_url() or saved.get("url"))
        if not url:
            raise NotRunning("no game day server found: the GM starts one with 'aiops-lab gameday start --gm'; "
                             f"or pass its URL (--url, {URL_ENV})")
        return cls(url, token)

    def call(self, method: str, path: str, slow: bool = False, **kwargs: Any) -> Any:
        return self.request(method, path, admin=True, timeout=SLOW_TIMEOUT_S if slow else None, **kwargs)
