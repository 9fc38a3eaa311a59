"""``python -m labs.gameday``: serve the game in ``<state>/gameday/`` on loopback until the GM ends it.

The socket is bound here, before uvicorn starts (port ``AIOPS_GAMEDAY_PORT``, default 0: any free port), and
the port actually bound is written to ``<state>/gameday/server.json`` only once it accepts connections: the
CLI that started the server waits for that file, so no port is guessed and no race is lost to another
process. Loopback only: the game is for terminals on this host (docs/gameday.md plans the classroom case).
"""

from __future__ import annotations

import json
import os
import socket
import sys
import threading

import uvicorn
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from aiops_core import settings as settings_mod
from aiops_core.atomic import atomic_write
from aiops_core.errors import LabError
from aiops_core.logging_setup import configure, log_config
from aiops_core.topology import LOOPBACK
from aiops_core.uvicorn_server import QuietServer
from labs.gameday.app import create_app
from labs.gameday.store import GameStore, game_dir, server_file

STOP_AFTER_END_S = 1.0  # long enough for /gm/end's answer to leave


class GamedaySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AIOPS_GAMEDAY_", extra="ignore")

    port: int = Field(default=0, ge=0, le=65535)
    # A forgotten game must not serve forever; an unfinished one can be resumed (aiops-lab gameday resume).
    max_hours: float = Field(default=12.0, gt=0, le=168)


def _bind(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((LOOPBACK, port))
    except OSError:
        sock.close()
        raise
    return sock


def _listen(port: int) -> socket.socket:
    """``port`` when set; else the port this game was served on before, so a resumed game keeps the URL the
    responders saved at join; else (or when that one is taken now) any free port."""
    if port:
        return _bind(port)
    try:
        previous = int((game_dir() / "port").read_text())
        return _bind(previous)
    except (OSError, ValueError):
        return _bind(0)


def main() -> None:
    cfg = settings_mod.load_or_exit(GamedaySettings, "gameday")
    configure("warning")
    try:
        store = GameStore(game_dir())
        holder: dict[str, QuietServer] = {}

        def stop_soon() -> None:
            threading.Timer(STOP_AFTER_END_S, lambda: holder["server"].stop()).start()

        app = create_app(store, on_end=stop_soon, on_stop=_forget_server)
    except LabError as exc:
        print(f"error: gameday: {exc.message}", file=sys.stderr)
        sys.exit(exc.exit_code)
    try:
        sock = _listen(cfg.port)
    except OSError as exc:
        print(f"error: gameday: cannot listen on {LOOPBACK}:{cfg.port} ({exc.strerror}); set AIOPS_GAMEDAY_PORT "
              "to a free port, or 0 for any", file=sys.stderr)
        sys.exit(3)
    port = sock.getsockname()[1]
    atomic_write(game_dir() / "port", str(port))
    server = holder["server"] = QuietServer(uvicorn.Config(app, log_config=log_config("warning"), access_log=False,
                                                              server_header=False, timeout_graceful_shutdown=5))
    record = {"url": f"http://{LOOPBACK}:{port}", "pid": os.getpid()}

    def announce() -> None:
        while not server.started and not server.should_exit:
            threading.Event().wait(0.05)
        if server.started:
            atomic_write(server_file(), json.dumps(record))

    threading.Thread(target=announce, daemon=True).start()
    limit = threading.Timer(cfg.max_hours * 3600, server.stop)
    limit.daemon = True
    limit.start()
    server.run(sockets=[sock])


def _forget_server() -> None:
    """Remove the record of where this server listens (if it is still ours), so nobody calls a dead port."""
    try:
        if json.loads(server_file().read_text()).get("pid") == os.getpid():
            server_file().unlink()
    except (OSError, ValueError):
        pass


if __name__ == "__main__":
    main()
