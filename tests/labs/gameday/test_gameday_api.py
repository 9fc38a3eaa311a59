"""The game day server's contract: token scopes, private hints, bad input as 4xx naming the field, and a
restart that loses nothing. One real server (``python -m labs.gameday``) on a free loopback port, started by
``aiops-lab gameday start``; no lab is needed, so the fault is scheduled an hour out and never starts.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator

import pytest

from aiops_core.polling import wait_until
from tests.labs.gameday.team import Team, alive, team
from tests.support.lab import Lab
from tests.support.speed import scaled

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def game(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Team]:
    root = tmp_path_factory.mktemp("gameday")
    with team(Lab.create(root / "state"), root / "homes") as t:
        t.start("--drill", "error-burst", "--at", "1h", "--status-every", "10m")
        t.tokens["alice"] = t.invite("ic", "alice")
        t.tokens["bob"] = t.invite("ops", "bob")
        t.tokens["sue"] = t.invite("scribe", "sue")
        yield t


def test_no_token_or_a_forged_one_is_401(game: Team) -> None:
    missing = game.api("GET", "/timeline", None)
    assert missing.status_code == 401 and "Authorization: Bearer" in missing.json()["error"]
    forged = game.api("GET", "/timeline", "gd_" + "x" * 43)
    assert forged.status_code == 401 and "no such token" in forged.json()["error"]


@pytest.mark.parametrize(("method", "path", "body"), [
    ("GET", "/gm/status", None), ("POST", "/gm/invite", {"role": "ops", "name": "mallory"}),
    ("POST", "/gm/hint", {"to": "bob", "text": "x"}), ("POST", "/gm/inject", {"drill": "service-crash"}),
    ("POST", "/gm/end", None)])
def test_a_responder_cannot_use_the_gms_routes(game: Team, method: str, path: str, body: dict | None) -> None:
    got = game.api(method, path, game.tokens["alice"], json=body)
    assert got.status_code == 403, got.text
    assert "needs a token with scope gm" in got.json()["error"] and "alice" in got.json()["error"]
    assert "error_ratio" not in got.text  # nothing of the cause leaks in the refusal


def test_the_gm_sees_the_true_cause_a_responder_does_not(game: Team) -> None:
    gm = game.api("GET", "/gm/status", game.gm_token()).json()
    assert gm["drill"] == "error-burst" and "error_ratio" in gm["true_cause"]
    assert "error" in gm["slis"]  # no Prometheus here: said in words, not a 500
    seen = game.api("GET", "/timeline", game.tokens["bob"]).text + game.api("GET", "/whoami", game.tokens["bob"]).text
    assert "error-burst" not in seen and "error_ratio" not in seen


def test_a_hint_is_seen_only_by_its_addressee_and_the_gm(game: Team) -> None:
    sent = game.api("POST", "/gm/hint", game.gm_token(), json={"to": "bob", "text": "what changed at runtime?"})
    assert sent.status_code == 201, sent.text

    def hints(token: str) -> list[str]:
        entries = game.api("GET", "/timeline", token).json()["entries"]
        return [e["text"] for e in entries if e["kind"] == "hint"]

    assert "what changed at runtime?" in hints(game.tokens["bob"])
    assert "what changed at runtime?" in hints(game.gm_token())
    assert hints(game.tokens["alice"]) == [] and hints(game.tokens["sue"]) == []


def test_only_the_ic_posts_status_updates(game: Team) -> None:
    refused = game.api("POST", "/status", game.tokens["bob"], json={"text": "all good"})
    assert refused.status_code == 403 and refused.json()["error"].startswith("role: POST /status needs role ic")
    gm = game.api("POST", "/status", game.gm_token(), json={"text": "the GM plays no IC"})
    assert gm.status_code == 403 and "you are gm (gm)" in gm.json()["error"]
    assert game.api("POST", "/status", game.tokens["alice"], json={"text": "investigating"}).status_code == 201


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/notes", {"text": "   "}, "text: String should have at least 1 character"),
    ("/notes", {"text": "x" * 2001}, "text: String should have at most 2000 characters"),
    ("/notes", {"text": "ok", "phase": "lunch"}, "phase:"),
    ("/notes", {}, "text: Field required"),
    ("/handoff", {"to": "nobody"}, "to: no responder named 'nobody'"),
])
def test_bad_input_is_a_4xx_naming_the_field(game: Team, path: str, body: dict, field: str) -> None:
    got = game.api("POST", path, game.tokens["alice"], json=body)
    assert 400 <= got.status_code < 500, got.text
    assert got.json()["error"].startswith(field), got.json()


def test_bad_invites_and_bodies_name_the_field(game: Team) -> None:
    gm = game.gm_token()
    role = game.api("POST", "/gm/invite", gm, json={"role": "cto", "name": "zed"})
    assert role.status_code == 422 and role.json()["error"].startswith("role: Input should be 'ic', 'ops' or 'scribe'")
    taken = game.api("POST", "/gm/invite", gm, json={"role": "ic", "name": "zed"})
    assert taken.status_code == 409 and "alice is the incident commander already" in taken.json()["error"]
    name = game.api("POST", "/gm/invite", gm, json={"role": "ops", "name": "bob"})
    assert name.status_code == 409 and name.json()["error"].startswith("name:")
    broken = game.api("POST", "/notes", game.tokens["sue"], content=b"{not json",
                      headers={"content-type": "application/json"})
    assert broken.status_code == 422 and broken.json()["error"].startswith("body:"), broken.text
    huge = game.api("POST", "/notes", game.tokens["sue"], json={"text": "x" * 100_000})
    assert huge.status_code == 413
    early = game.api("POST", "/gm/inject", gm, json={"drill": "service-crash"})
    assert early.status_code == 409 and early.json()["error"].startswith("drill: no incident of this game is running")
    unknown = game.api("POST", "/gm/inject", gm, json={"drill": "no-such-drill"})
    assert unknown.status_code == 422 and unknown.json()["error"].startswith("drill: unknown drill 'no-such-drill'")


def test_tokens_are_stored_hashed_and_private(game: Team) -> None:
    stored = (game.gm.state / "gameday" / "participants.json").read_text()
    assert all(token not in stored for token in [game.gm_token(), *game.tokens.values()])
    assert stat.S_IMODE(os.stat(game.gm.state / "gameday" / "participants.json").st_mode) == 0o600
    assert stat.S_IMODE(os.stat(game.home / "gm" / "gameday-gm.json").st_mode) == 0o600


def test_a_restarted_server_loses_nothing(game: Team) -> None:
    """Last in this module: it restarts the shared server."""
    sue = game.tokens["sue"]
    assert game.api("POST", "/notes", sue, json={"text": "before the restart"}).status_code == 201
    before = game.server
    game.stop()
    assert not alive(int(before["pid"]))
    resumed = game.gm_cli("gameday", "resume")
    assert resumed.returncode == 0, resumed.stderr
    wait_until(lambda: game.server["pid"] != before["pid"], timeout=scaled(10), what="the new server's record")
    assert game.url == before["url"], "a resumed game keeps its URL (responders saved it at join)"
    entries = game.api("GET", "/timeline", sue).json()["entries"]
    assert "before the restart" in [e["text"] for e in entries]
    assert json.loads(game.api("GET", "/whoami", sue).text)["name"] == "sue"
