"""A drill's Markdown report as one HTML page a browser opens offline: same text, the chart embedded.

The Markdown stays the source (it is what a learner edits into a real postmortem); the page beside it is for
reading. Images the Markdown names by relative path (the SLI chart) are embedded as ``data:`` URIs, so the
page carries everything and asks no server for anything.
"""

from __future__ import annotations

import base64
import re
from html import escape
from pathlib import Path

from markdown_it import MarkdownIt

_COMMENT = re.compile(r"<!--.*?-->", re.S)
_IMG = re.compile(r'<img src="([^":/]+\.png)"')
_STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:64rem;color:#222;line-height:1.45}
table{border-collapse:collapse}td,th{padding:.3rem .6rem;border:1px solid #ddd;text-align:left}
th{background:#f4f4f4}img{max-width:100%}code,pre{background:#f6f6f6}pre{padding:.6rem;overflow:auto}
"""


def to_html(markdown: str, title: str, base_dir: Path) -> str:
    """The page for ``markdown`` (written in ``base_dir``, where its relative images are)."""
    # Raw HTML is shown as text (a learner's edit cannot inject script); the template's comment is dropped.
    markdown = _COMMENT.sub("", markdown)
    body = MarkdownIt("commonmark", {"html": False}).enable("table").render(markdown)

    def embed(match: re.Match[str]) -> str:
        image = base_dir / match.group(1)
        if not image.is_file():
            return match.group(0)
        return f'<img src="data:image/png;base64,{base64.b64encode(image.read_bytes()).decode("ascii")}"'

    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">'
            f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>{_IMG.sub(embed, body)}</body></html>")


def write(markdown_path: Path, title: str) -> Path:
    """``<name>.html`` beside ``<name>.md``."""
    out = markdown_path.with_suffix(".html")
    out.write_text(to_html(markdown_path.read_text(), title, markdown_path.parent))
    return out
