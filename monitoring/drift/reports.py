"""The reports directory: one Evidently HTML page and one JSON file per run, the newest ``keep`` kept.

Names sort chronologically (``drift-20261125T151502-123Z.html``), so "newest first" is a reverse sort of
names, and nothing but a name that matches the pattern is ever served or deleted. Files are written to a
temporary name and renamed, so the index never lists a half-written report. An Evidently page is a
self-contained ~4 MB file (it inlines its JavaScript) -- hence the retention.
"""

from __future__ import annotations

import json
import math
import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from aiops_core.atomic import atomic_write
from monitoring.drift.summary import RunSummary

_NAME = re.compile(r"^drift-\d{8}T\d{6}-\d{3}Z(?:-\d+)?\.(?:html|json)$")


class ReportStore:
    def __init__(self, root: Path, keep: int) -> None:
        self.root = Path(root)
        self.keep = keep

    def new_stem(self, started_at: float) -> str:
        stamp = datetime.fromtimestamp(started_at, UTC)
        stem = f"drift-{stamp:%Y%m%dT%H%M%S}-{stamp.microsecond // 1000:03d}Z"
        candidate, n = stem, 1
        while (self.root / f"{candidate}.json").exists() or (self.root / f"{candidate}.html").exists():
            candidate, n = f"{stem}-{n}", n + 1
        return candidate

    def save_html(self, summary: RunSummary, snapshot: Any) -> RunSummary:
        """Write ``<stem>.html`` (Evidently's page); returns the summary naming both files of the run.

        The caller writes ``<stem>.json`` last (``write_json``), so the index, which reads the JSON files,
        never lists a run whose page is missing; then ``prune()``.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        stem = self.new_stem(summary.started_at)
        summary = summary.model_copy(update={"html_file": f"{stem}.html", "json_file": f"{stem}.json"})
        html_tmp = self.root / f".{stem}.html.tmp"
        snapshot.save_html(str(html_tmp))
        os.replace(html_tmp, self.root / f"{stem}.html")
        return summary

    def prune(self) -> list[str]:
        """Delete all but the newest ``keep`` runs; returns the deleted stems."""
        stems = self.stems()
        doomed = stems[self.keep:]
        for stem in doomed:
            for suffix in (".html", ".json"):
                (self.root / f"{stem}{suffix}").unlink(missing_ok=True)
        return doomed

    def entries(self) -> list[RunSummary]:
        """Summaries of the kept runs, newest first (unreadable files are skipped, not fatal)."""
        out = []
        for stem in self.stems():
            try:
                data = json.loads((self.root / f"{stem}.json").read_text())
                out.append(RunSummary.model_validate(data["summary"]))
            except (OSError, ValueError, KeyError):
                continue
        return out

    def newest(self) -> RunSummary | None:
        """The newest readable run's summary, reading no more files than it must (start-up calls it)."""
        for stem in self.stems():
            try:
                return RunSummary.model_validate(json.loads((self.root / f"{stem}.json").read_text())["summary"])
            except (OSError, ValueError, KeyError):
                continue
        return None

    def path(self, name: str) -> Path | None:
        """The file called ``name`` if it is a report of this store, else None (no path tricks)."""
        if not _NAME.match(name):
            return None
        candidate = self.root / name
        return candidate if candidate.is_file() else None

    def stems(self) -> list[str]:
        """Run names (without suffix), newest first."""
        if not self.root.is_dir():
            return []
        stems = {p.name.rsplit(".", 1)[0] for p in self.root.iterdir() if _NAME.match(p.name)}
        return sorted(stems, key=_sort_key, reverse=True)


def write_json(path: Path, summary: RunSummary, snapshot: Any) -> None:
    body = {"summary": summary.model_dump(mode="json"), "evidently": _finite(snapshot.dict())}
    atomic_write(path, json.dumps(body, indent=1, default=_jsonable, allow_nan=False))


def _sort_key(stem: str) -> tuple[str, int]:
    """Chronological: by timestamp, then by the -N suffix of runs within the same millisecond."""
    match = re.match(r"^(.*Z)(?:-(\d+))?$", stem)
    return (match.group(1), int(match.group(2) or 0)) if match else (stem, 0)


def _finite(value: Any) -> Any:
    """NaN/inf -> null: strict JSON, so a browser's JSON.parse reads the file too."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    if isinstance(value, np.generic):
        return _finite(value.item())
    return value


def _jsonable(value: Any) -> Any:
    return str(value)
