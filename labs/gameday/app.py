"""The game day's HTTP API: one shared timeline, the GM's controls, and token scopes between them.

Routes for everyone with a token: ``/whoami``, ``/join``, ``/notes``, ``/status`` (IC only), ``/handoff`` (IC or
GM), ``/timeline``, ``/debrief`` (after the end). Routes for the GM (scope ``gm``): ``/gm/invite``, ``/gm/hint``,
``/gm/inject``, ``/gm/status`` (the true cause and the live SLIs), ``/gm/end``. Every answer to a responder
carries ``prompt`` when their IC status update is overdue, so any ``incident`` command can show it. Bad input
is a 4xx naming the field, as in the pager.
"""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from aiops_core.body_limit import BodyLimitMiddleware
from aiops_core.errors import LabError
from aiops_core.refused import Refused, auth_headers
from labs.drills import engine
from labs.gameday import cadence, debrief
from labs.gameday.auth import caller, require_role, require_scope
from labs.gameday.conductor import Conductor
from labs.gameday.model import (
    ROLE_TITLES,
    Entry,
    HandoffBody,
    HintBody,
    InjectBody,
    InviteBody,
    NoteBody,
    Participant,
    StatusBody,
)
from labs.gameday.store import GameStore, new_token, token_hash

MAX_BODY_BYTES = 64 * 1024
IDENTITY = "aiops-lab gameday"


class GameError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def _field(loc: Sequence[int | str]) -> str:
    parts = [str(p) for p in (loc[1:] if loc and loc[0] in ("body", "query", "path") else loc)]
    return ".".join(parts) or "body"


def create_app(store: GameStore, on_end: Callable[[], None] | None = None,
               on_stop: Callable[[], None] | None = None) -> FastAPI:
    """The app over ``store``'s game; ``on_end`` runs after ``/gm/end`` answered (the server stops itself),
    ``on_stop`` when the server shuts down (uvicorn re-raises SIGTERM afterwards: no ``finally`` runs then)."""
    game = store.load_game()
    if game is None:
        raise LabError(f"no game in {store.dir}; start one with: aiops-lab gameday start --gm")
    conductor = Conductor(store, game)
    authenticated = Depends(caller(store))  # a default, not an Annotated alias: this is a local name

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        conductor.schedule()  # also after a restart: a fault not started yet is still due
        try:
            yield
        finally:
            if on_stop is not None:
                on_stop()

    app = FastAPI(title="aiops-lab game day", version="0.1.0", lifespan=lifespan,
                  description="A GM, responders with roles, one shared incident timeline.")
    app.state.conductor = conductor

    def view(who: Participant, e: Entry) -> dict[str, Any] | None:
        """What ``who`` may see of an entry: hints to others never; secrets only the GM, until the end."""
        if who.scope != "gm" and e.to is not None and e.to.lower() != who.name.lower():
            return None
        out = e.model_dump(exclude={"key"})
        if who.scope != "gm" and game.ended_at is None:
            out.pop("secret")
        return out

    def answer(who: Participant, **body: Any) -> dict[str, Any]:
        return {**body, "prompt": cadence.prompt(game, store.entries, who, time.time())}

    def open_game() -> None:
        if game.ended_at is not None:
            raise GameError(409, f"the game day has ended; read the debrief: {game.debrief_path}")

    def add(who: Participant, kind: str, text: str, role: str | None = None, **extra: Any) -> Entry:
        open_game()
        return store.append(Entry(at=time.time(), author=who.name, role=role or who.label, kind=kind, text=text,
                                  **extra))

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok", "service": IDENTITY, "game_id": game.game_id}

    @app.get("/whoami")
    def whoami(who: Participant = authenticated) -> dict[str, Any]:
        return answer(who, name=who.name, scope=who.scope, role=who.role, game_id=game.game_id,
                      ended=game.ended_at is not None)

    @app.post("/join")
    def join(who: Participant = authenticated) -> dict[str, Any]:
        if who.joined_at is None:
            who.joined_at = time.time()
            store.save_participants()
            add(who, "join", f"{who.name} joined as {ROLE_TITLES[who.label]}")
        return answer(who, name=who.name, role=who.role)

    @app.post("/notes", status_code=201)
    def note(body: NoteBody, who: Participant = authenticated) -> dict[str, Any]:
        return answer(who, entry=add(who, "note", body.text, phase=body.phase).model_dump(exclude={"key"}))

    @app.post("/status", status_code=201)
    def status(body: StatusBody, who: Participant = authenticated) -> dict[str, Any]:
        require_role(who, ("ic",), "POST /status", "status updates are the incident commander's: ask the IC, "
                     "or have the IC hand over with: aiops-lab incident handoff --to NAME", gm_too=False)
        return answer(who, entry=add(who, "status", body.text).model_dump(exclude={"key"}))

    @app.post("/handoff")
    def handoff(body: HandoffBody, who: Participant = authenticated) -> dict[str, Any]:
        require_role(who, ("ic",), "POST /handoff", "only the current IC hands the role over")
        target = store.by_name(body.to)
        if target is None or target.scope != "responder":
            names = ", ".join(p.name for p in store.responders()) or "none yet"
            raise GameError(422, f"to: no responder named {body.to!r}; responders: {names}")
        current = next((p for p in store.responders() if p.role == "ic"), None)
        if current is target:
            raise GameError(409, f"to: {target.name} is the incident commander already")
        open_game()
        now, role_then = time.time(), who.label  # the entry is signed with the role it was written in
        if current is not None:  # the old IC takes the new one's seat: no role is left empty
            current.role, current.role_since = target.role, now
        target.role, target.role_since = "ic", now
        store.save_participants()
        entry = add(who, "handoff", f"incident command handed to {target.name}"
                    + (f"; {current.name} takes {ROLE_TITLES[str(current.role)]}" if current else ""), role=role_then)
        return answer(who, entry=entry.model_dump(exclude={"key"}))

    @app.get("/timeline")
    def timeline(who: Participant = authenticated) -> dict[str, Any]:
        conductor.sync()
        entries = [v for e in store.ordered() if (v := view(who, e)) is not None]
        return answer(who, entries=entries, ended=game.ended_at is not None, status_every_s=game.status_every_s)

    @app.get("/debrief")
    def get_debrief(who: Participant = authenticated) -> dict[str, Any]:
        if game.debrief_path is None:
            raise GameError(409, "the debrief is written when the GM ends the game: aiops-lab gameday end")
        return {"path": game.debrief_path, "markdown": Path(game.debrief_path).read_text()}

    # --- the game master ----------------------------------------------------------------------

    @app.post("/gm/invite", status_code=201)
    def invite(body: InviteBody, who: Participant = authenticated) -> dict[str, Any]:
        require_scope(who, "gm", "POST /gm/invite")
        open_game()
        if store.by_name(body.name) is not None:
            raise GameError(409, f"name: {body.name!r} is taken; pick another name")
        ic = next((p for p in store.responders() if p.role == "ic"), None)
        if body.role == "ic" and ic is not None:
            raise GameError(409, f"role: {ic.name} is the incident commander already; one IC at a time "
                            "(they hand over with: aiops-lab incident handoff --to NAME)")
        token = new_token()
        store.add_participant(Participant(name=body.name, scope="responder", role=body.role,
                                          token_sha256=token_hash(token)))
        return {"name": body.name, "role": body.role, "token": token}

    @app.post("/gm/hint", status_code=201)
    def hint(body: HintBody, who: Participant = authenticated) -> dict[str, Any]:
        require_scope(who, "gm", "POST /gm/hint")
        target = store.by_name(body.to)
        if target is None or target.scope != "responder":
            raise GameError(422, f"to: no responder named {body.to!r}; responders: "
                            f"{', '.join(p.name for p in store.responders()) or 'none yet'}")
        return {"entry": add(who, "hint", body.text, to=target.name).model_dump(exclude={"key"})}

    @app.post("/gm/inject")
    def inject(body: InjectBody, who: Participant = authenticated) -> dict[str, Any]:
        require_scope(who, "gm", "POST /gm/inject")
        open_game()
        try:
            return {"injected": conductor.inject(body.drill)}
        except LabError as exc:
            if exc.exit_code == 5:  # nothing running yet: the message names the field and when it will
                raise GameError(409, exc.message) from None
            raise GameError(422, f"drill: {exc.message}") from None

    @app.get("/gm/status")
    def gm_status(who: Participant = authenticated) -> dict[str, Any]:
        require_scope(who, "gm", "GET /gm/status")
        drill = engine.drill_for(game.drill_id)
        now = time.time()
        return {"game_id": game.game_id, "drill": drill.id, "title": drill.title,
                "true_cause": drill.debrief.root_cause.strip(), "second_faults": game.injected,
                "fault_at": game.fault_at, "start_error": game.start_error, "elapsed_s": now - game.started_at,
                "since_fault_s": max(0.0, now - game.fault_at), "run": conductor.run_state(),
                "slis": conductor.slis(), "status_every_s": game.status_every_s,
                "participants": [{"name": p.name, "role": p.label, "joined": p.joined_at is not None}
                                 for p in store.participants]}

    ending = threading.Lock()

    @app.post("/gm/end")
    def end(who: Participant = authenticated) -> dict[str, Any]:
        require_scope(who, "gm", "POST /gm/end")
        with ending:
            open_game()
            reports = conductor.end()
            game.ended_at = time.time()
            text, scores = debrief.render(game, store.ordered(), store.participants, reports, game.ended_at)
            game.debrief_path = str(debrief.write(game, text))
            store.save_game(game)
        if on_end is not None:
            on_end()
        return {"path": game.debrief_path, "markdown": text,
                "scores": [{"role": s.role, "who": s.who, "score": s.score, "why": s.why} for s in scores]}

    @app.exception_handler(GameError)
    async def _game_error(_: Request, exc: GameError) -> JSONResponse:
        return JSONResponse({"error": exc.message}, status_code=exc.status)

    @app.exception_handler(LabError)
    async def _lab_error(_: Request, exc: LabError) -> JSONResponse:  # e.g. an unknown drill, nothing running
        return JSONResponse({"error": exc.message}, status_code=409 if exc.exit_code == 5 else 422)

    @app.exception_handler(Refused)
    async def _refused(_: Request, exc: Refused) -> JSONResponse:
        return JSONResponse({"error": exc.message}, status_code=exc.status, headers=auth_headers(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first = errors[0] if errors else {}
        where = "body" if first.get("type") == "json_invalid" else _field(first.get("loc", ()))
        return JSONResponse({"error": f"{where}: {first.get('msg', 'invalid')}",
                             "details": [{"field": _field(e.get("loc", ())), "message": e.get("msg", "")}
                                         for e in errors]}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"error": f"{request.url.path}: {exc.detail}"}, status_code=exc.status_code)

    app.add_middleware(BodyLimitMiddleware, max_body_bytes=MAX_BODY_BYTES)
    return app
