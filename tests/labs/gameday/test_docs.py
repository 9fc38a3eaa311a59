"""Every ``aiops-lab`` command docs/gameday.md tells a GM or a responder to type parses with the real CLI:
a renamed option must fail here, not in front of a class."""

from __future__ import annotations

import re
import shlex

from aiops_core.paths import REPO_ROOT
from tests.support.cli_parse import parse_cli

DOC = REPO_ROOT / "docs" / "gameday.md"
FENCE = re.compile(r"^```bash\n(.*?)^```", re.M | re.S)


def commands() -> list[list[str]]:
    """The ``aiops-lab`` commands of the guide's bash blocks, as argument lists (``a; b`` is two, ``# ...`` none)."""
    found: list[list[str]] = []
    for block in FENCE.findall(DOC.read_text()):
        for line in block.splitlines():
            lexer = shlex.shlex(line, posix=True, punctuation_chars=";")
            lexer.whitespace_split = True
            words: list[str] = []
            for token in [*lexer, ";"]:
                if token != ";":
                    words.append(token)
                    continue
                if words[:1] == ["aiops-lab"]:
                    found.append(words[1:])
                words = []
    return found


def test_every_command_in_the_game_day_guide_parses() -> None:
    found = commands()
    assert {"gameday", "incident"} <= {args[0] for args in found}, found
    for args in found:
        parse_cli(args, where=f"{DOC.name}: aiops-lab {' '.join(args)}")
