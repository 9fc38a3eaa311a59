"""The game day's files in ``<state>/gameday/``: the game, the participants (token hashes), the timeline.

The timeline is append-only JSONL, fsynced per entry: a server killed mid-game loses at most the entry it
was writing, and a half-written last line is skipped on load instead of refusing the whole game. The
participants file holds SHA-256 hashes of the tokens, never the tokens: the tokens are 256-bit random
strings, so a plain hash is as strong as a slow KDF would be here and costs nothing per request.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import threading
from pathlib import Path

from aiops_core import paths
from aiops_core.atomic import atomic_write
from labs.gameday.model import Entry, Game, Participant

TOKEN_PREFIX = "gd_"


def game_dir() -> Path:
    return paths.state_dir() / "gameday"


def server_file() -> Path:
    """Where the running server says where it listens (url, pid): how the GM's CLI finds it."""
    return game_dir() / "server.json"


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class GameStore:
    """The one writer of a game's files (the server); every method is safe across request threads."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.dir, 0o700)
        self.game_path = directory / "game.json"
        self.participants_path = directory / "participants.json"  # token hashes: 0600
        self.timeline_path = directory / "timeline.jsonl"  # append-only, one entry per line
        self._lock = threading.RLock()
        self.entries: list[Entry] = self._load_entries()
        self.participants: list[Participant] = self._load_participants()

    # --- the game -----------------------------------------------------------------------------------

    def load_game(self) -> Game | None:
        return Game.model_validate_json(self.game_path.read_text()) if self.game_path.is_file() else None

    def save_game(self, game: Game) -> None:
        with self._lock:
            atomic_write(self.game_path, game.model_dump_json(indent=2), fsync=True)

    # --- participants and tokens ------------------------------------------------------------------

    def _load_participants(self) -> list[Participant]:
        if not self.participants_path.is_file():
            return []
        return [Participant.model_validate(p) for p in json.loads(self.participants_path.read_text())]

    def save_participants(self) -> None:
        with self._lock:
            body = json.dumps([p.model_dump() for p in self.participants], indent=2)
            atomic_write(self.participants_path, body, fsync=True)
            os.chmod(self.participants_path, 0o600)

    def add_participant(self, participant: Participant) -> None:
        with self._lock:
            self.participants.append(participant)
            self.save_participants()

    def authenticate(self, token: str) -> Participant | None:
        """The token's holder. Every stored hash is compared, in constant time, so neither the time taken
        nor an early exit tells a caller how close a guess came."""
        presented = token_hash(token).encode()
        found = None
        with self._lock:
            for p in self.participants:
                if hmac.compare_digest(presented, p.token_sha256.encode()):
                    found = p
        return found

    def by_name(self, name: str) -> Participant | None:
        return next((p for p in self.participants if p.name.lower() == name.lower()), None)

    def responders(self) -> list[Participant]:
        return [p for p in self.participants if p.scope == "responder"]

    # --- the timeline ------------------------------------------------------------------------------

    def _load_entries(self) -> list[Entry]:
        if not self.timeline_path.is_file():
            return []
        out = []
        for line in self.timeline_path.read_text().splitlines():
            try:
                out.append(Entry.model_validate_json(line))
            except ValueError:
                continue  # a line cut short by a crash: the rest of the game still loads
        return out

    def append(self, entry: Entry) -> Entry:
        with self._lock:
            with self.timeline_path.open("a") as fh:
                fh.write(entry.model_dump_json() + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            self.entries.append(entry)
        return entry

    def keys(self) -> set[str]:
        with self._lock:
            return {e.key for e in self.entries if e.key}

    def ordered(self) -> list[Entry]:
        with self._lock:
            return sorted(self.entries, key=lambda e: e.at)
