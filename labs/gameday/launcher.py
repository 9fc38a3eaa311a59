"""Create a game and start (or restart) its server: what ``gameday start`` and ``gameday resume`` do.

The GM's token is minted here, before the server exists, and only its hash is written: the server never
sees the token itself, and the GM's terminal is the only place it is printed. A game's files stay in
``<state>/gameday/`` until the next ``gameday start`` moves an *ended* game to ``gameday-archive/<id>``; an
unfinished one is never overwritten (resume it, or end it).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime

from aiops_core import http as lab_http
from aiops_core import paths
from aiops_core.errors import Conflict, NotRunning
from aiops_core.polling import Timeout, wait_until
from labs.gameday.model import Game, Participant
from labs.gameday.store import GameStore, game_dir, new_token, server_file, token_hash

SERVER_START_TIMEOUT_S = 30.0


def server_record() -> dict[str, object] | None:
    """The running server's url and pid, if its process is alive."""
    try:
        record = json.loads(server_file().read_text())
    except (OSError, ValueError):
        return None
    return record if _running(int(record.get("pid", 0))) else None


def _running(pid: int) -> bool:
    """Alive and not a zombie: a server killed while its starter was gone may linger unreaped."""
    import psutil

    try:
        return pid > 0 and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def create(drill_id: str, hidden: bool, delay_s: float, status_every_s: float, gm_name: str = "gm") -> tuple[Game, str]:
    """Write a new game with its GM; the GM's token (shown once)."""
    if server_record() is not None:
        raise Conflict("a game day is already being served; end it first: aiops-lab gameday end")
    old = GameStore(game_dir()).load_game() if (game_dir() / "game.json").is_file() else None
    if old is not None and old.ended_at is None:
        raise Conflict(f"game {old.game_id} has not ended; resume it (aiops-lab gameday resume) or end it "
                       "(aiops-lab gameday resume && aiops-lab gameday end)")
    if old is not None:
        archive = paths.state_dir() / "gameday-archive" / old.game_id
        archive.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(game_dir()), str(archive))
    elif game_dir().exists():
        shutil.rmtree(game_dir())  # files of a game that never got its game.json: nothing to keep
    now = time.time()
    game = Game(game_id="gameday-" + datetime.fromtimestamp(now, UTC).strftime("%Y%m%d-%H%M%S"), drill_id=drill_id,
                hidden=hidden, started_at=now, fault_at=now + delay_s, status_every_s=status_every_s)
    store = GameStore(game_dir())
    token = new_token()
    store.add_participant(Participant(name=gm_name, scope="gm", token_sha256=token_hash(token), joined_at=now))
    store.save_game(game)
    return game, token


def spawn() -> str:
    """Start ``python -m labs.gameday`` detached (it outlives the CLI) and return its URL once it answers."""
    if not (game_dir() / "game.json").is_file():
        raise Conflict("no game to serve; start one: aiops-lab gameday start --gm --drill ID")
    running = server_record()
    if running is not None:
        return str(running["url"])
    server_file().unlink(missing_ok=True)
    log = (game_dir() / "server.log").open("ab")
    try:
        proc = subprocess.Popen([sys.executable, "-m", "labs.gameday"], stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True, env=os.environ.copy())
    finally:
        log.close()

    def up() -> str | None:
        if proc.poll() is not None:
            tail = (game_dir() / "server.log").read_text(errors="replace")[-600:]
            raise AssertionError(f"the game day server exited at start (status {proc.returncode}):\n{tail}")
        record = server_record()
        if record is None or record.get("pid") != proc.pid:
            return None
        lab_http.get(f"{record['url']}/healthz", timeout=2.0).raise_for_status()
        return str(record["url"])

    try:
        return wait_until(up, timeout=SERVER_START_TIMEOUT_S, interval=0.1, what="the game day server")
    except Timeout:
        proc.terminate()
        raise NotRunning(f"the game day server did not answer within {SERVER_START_TIMEOUT_S:.0f}s; see "
                         f"{game_dir() / 'server.log'}") from None
    except AssertionError as exc:
        raise NotRunning(str(exc)) from None
