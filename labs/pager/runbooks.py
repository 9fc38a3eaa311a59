"""The runbooks, rendered by the pager itself: a page's runbook link works offline and without GitHub.

Alerts carry ``runbook_url: runbooks/<AlertName>.md`` (a path in this repo). The inbox links it as
``/runbooks/<AlertName>``, and this module renders the Markdown file to HTML with ``markdown-it-py``
(CommonMark plus tables, the parser ``rich`` already installs). Links between runbooks (``drills/README.md``,
``../Watchdog.md``) are rewritten to their ``/runbooks/...`` pages, so a learner can follow them too.

Only files under the runbooks folder are served: a name is a path of ``[A-Za-z0-9_.-]`` segments, never
``..``, resolved and checked to stay inside the folder.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path
from urllib.parse import urlsplit

from markdown_it import MarkdownIt

from aiops_core.paths import REPO_ROOT

DEFAULT_DIR = REPO_ROOT / "runbooks"
ROUTE = "/runbooks"
_SEGMENT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


class RunbookNotFound(Exception):
    """No such runbook; the message names the name and where runbooks are listed."""


def href(runbook_url: str) -> str | None:
    """Where the inbox links a page's ``runbook_url``: an absolute URL as it is, a repo path
    (``runbooks/X.md``, ``X.md``) to the pager's own rendering, nothing (None) when empty."""
    if not runbook_url:
        return None
    parts = urlsplit(runbook_url)
    if parts.scheme in ("http", "https"):
        return runbook_url
    path = parts.path.removeprefix("/").removeprefix("runbooks/")
    name = path.removesuffix(".md")
    return f"{ROUTE}/{name}" + (f"#{parts.fragment}" if parts.fragment else "")


def _resolve(root: Path, name: str) -> Path:
    segments = name.removesuffix(".md").split("/")
    if not all(_SEGMENT.match(s) and s not in (".", "..") for s in segments):
        raise RunbookNotFound(f"runbook {name!r}: a name is letters, digits, '_', '-', '.', and '/' between folders")
    path = (root / "/".join(segments)).with_suffix(".md")
    if not path.resolve().is_relative_to(root.resolve()) or not path.is_file():
        raise RunbookNotFound(f"runbook {name!r} does not exist in {root}; the index is {ROUTE}/README")
    return path


def _markdown(doc_dir: str) -> MarkdownIt:
    md = MarkdownIt("commonmark").enable("table")

    def link_open(renderer, tokens, idx, options, env):  # type: ignore[no-untyped-def]
        token = tokens[idx]
        target = str(token.attrGet("href") or "")
        parts = urlsplit(target)
        if not parts.scheme and parts.path.endswith(".md"):
            joined = posixpath.normpath(posixpath.join(doc_dir, parts.path))
            if not joined.startswith(".."):
                token.attrSet("href", f"{ROUTE}/{joined.removesuffix('.md')}"
                              + (f"#{parts.fragment}" if parts.fragment else ""))
        return renderer.renderToken(tokens, idx, options, env)

    md.add_render_rule("link_open", link_open)
    return md


def render(name: str, root: Path = DEFAULT_DIR) -> tuple[str, str]:
    """``(title, html)`` of runbook ``name`` (``WatchdogHeartbeatMissing``, ``drills/README``)."""
    path = _resolve(root, name)
    text = path.read_text(encoding="utf-8")
    first = next((line for line in text.splitlines() if line.startswith("#")), path.stem)
    rel_dir = posixpath.dirname(path.relative_to(root).as_posix())
    return first.lstrip("#").strip() or path.stem, _markdown(rel_dir).render(text)
