"""The game day's records: participants, timeline entries, the game itself, and the request bodies.

One definition of each shape, shared by the server (validation, persistence) and the debrief. Request
bodies carry their limits here so a bad one is a 422 naming the field (``text: String should have at most
2000 characters``), never a 500 and never an entry that breaks the timeline for everyone else.
"""

from __future__ import annotations

import time
from typing import Annotated, Literal, get_args

from pydantic import BaseModel, Field, StringConstraints

Role = Literal["ic", "ops", "scribe"]
ROLES: tuple[str, ...] = get_args(Role)
ROLE_TITLES = {"ic": "incident commander", "ops": "operations", "scribe": "scribe", "gm": "game master"}
Scope = Literal["gm", "responder"]
Phase = Literal["detection", "diagnosis", "mitigation"]
PHASES: tuple[str, ...] = get_args(Phase)
MAX_TEXT_CHARS = 2000  # a status update or a note is a few sentences; a paste of a log belongs in a file
MAX_NAME_CHARS = 40
# Entry kinds people write: join, note, status, handoff, hint; the drill engine's arrive as ``engine:<kind>``.

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TEXT_CHARS)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_NAME_CHARS,
                                        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]


class Participant(BaseModel):
    """Who holds a token: the GM or a responder with a role. Only the token's hash is ever stored."""

    name: str
    scope: Scope
    role: Role | None = None  # None for the GM
    token_sha256: str
    joined_at: float | None = None
    role_since: float = Field(default_factory=time.time)  # when the current role was taken (IC cadence clock)

    @property
    def label(self) -> str:
        return "gm" if self.scope == "gm" else str(self.role)


class Entry(BaseModel):
    """One line of the shared timeline. ``to``: a private hint's addressee (None: everyone sees it).
    ``secret``: detail only the GM sees until the end (e.g. what the injection changed)."""

    at: float
    author: str
    role: str  # ic | ops | scribe | gm | engine
    kind: str
    text: str
    to: str | None = None
    secret: str | None = None
    phase: Phase | None = None
    key: str | None = None  # de-duplicates the engine's events across syncs


class Game(BaseModel):
    """The game's settings and progress (``<state>/gameday/game.json``)."""

    game_id: str
    drill_id: str
    hidden: bool = True  # responders see a wheel-of-misfortune incident, never the drill id
    started_at: float
    fault_at: float  # when the first fault is scheduled to start
    status_every_s: float
    run_ids: list[str] = Field(default_factory=list)  # the drill engine's runs, in start order
    injected: list[str] = Field(default_factory=list)  # second faults: drill ids injected into the run
    start_error: str | None = None
    ended_at: float | None = None
    debrief_path: str | None = None


class NoteBody(BaseModel):
    text: Text
    phase: Phase | None = None


class StatusBody(BaseModel):
    text: Text


class HandoffBody(BaseModel):
    to: Name


class InviteBody(BaseModel):
    role: Role
    name: Name


class HintBody(BaseModel):
    to: Name
    text: Text


class InjectBody(BaseModel):
    drill: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
