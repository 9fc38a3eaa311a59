"""Who is calling the game day server, and may they: bearer tokens with a scope (``gm`` or ``responder``).

401: no token, or one the game never issued (the fix: ask the GM for an invite). 403: a real token without
the scope or role the route needs, and the message names it (``scope gm``, ``role ic``), so a responder
learns why the GM's view is closed instead of guessing. The check is a FastAPI dependency, declared once
and used by every route, never pasted into handlers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Header, Request

from aiops_core.refused import Refused
from labs.gameday.model import Participant
from labs.gameday.store import GameStore

INVITE_HINT = "ask the game master for an invite (aiops-lab gameday invite --role ROLE --name NAME)"


def caller(store: GameStore) -> Callable[..., Participant]:
    """A dependency: the participant whose token the request carries."""

    def check(request: Request, authorization: Annotated[str | None, Header()] = None) -> Participant:
        where = f"{request.method} {request.url.path}"
        if not authorization or not authorization.lower().startswith("bearer "):
            raise Refused(401, f"authorization: {where} needs 'Authorization: Bearer <token>'; {INVITE_HINT}")
        who = store.authenticate(authorization[7:].strip())
        if who is None:
            raise Refused(401, f"authorization: this game day issued no such token; {INVITE_HINT}")
        return who

    return check


def require_scope(who: Participant, scope: str, where: str) -> None:
    if who.scope != scope:
        raise Refused(403, f"scope: {where} needs a token with scope {scope}; yours has scope {who.scope} "
                      f"({who.name}, {who.label})")


def require_role(who: Participant, roles: tuple[str, ...], where: str, fix: str, gm_too: bool = True) -> None:
    """``gm_too``: the GM may act in the role as well (a handoff when the IC walked away)."""
    if not (gm_too and who.scope == "gm") and who.role not in roles:
        raise Refused(403, f"role: {where} needs role {' or '.join(roles)}; you are {who.name} ({who.label}); {fix}")
