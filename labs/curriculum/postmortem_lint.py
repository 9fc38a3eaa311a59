"""A postmortem linter: required sections filled in, action items owned, timeline consistent with the record.

Two kinds of rules. *Structure* (``lint``): every section of ``runbooks/templates/postmortem.md`` is
present and written (no ``_..._`` or ``${...}`` left), an author is named, and at least one action item
has a type (prevent / detect / mitigate) and an owner. *Consistency* (``lint_timeline``): the timeline is
in order, its key moments -- fault start, first page, acknowledgement, mitigation -- appear at the times
the drill engine recorded (within a minute), and no row lies outside the incident.

Usable on its own, for a real postmortem too::

    python -m labs.curriculum.postmortem_lint path/to/postmortem.md [--run RUN_ID]
"""

from __future__ import annotations

import argparse
import itertools
import re
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

REQUIRED_SECTIONS = ("Summary", "Impact", "Detection", "Timeline", "Root cause", "Resolution", "What went well",
                     "What went wrong", "Lessons learned", "Action items")
ACTION_TYPES = ("prevent", "detect", "mitigate")
PLACEHOLDER = re.compile(r"_\.\.\._|\$\{\w+\}|_your name_|\bTODO\b|\bTBD\b", re.I)
TOLERANCE_S = 60.0
SLACK_BEFORE_S = 600.0  # a timeline may start with what happened shortly before the fault (a deploy)
SLACK_AFTER_S = 3600.0  # ... and end with follow-ups after the mitigation
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")
DAY = 86400.0


@dataclass(frozen=True)
class Finding:
    rule: str
    message: str
    hint: str = ""


@dataclass(frozen=True)
class Row:
    clock: float  # seconds since midnight UTC
    text: str  # the rest of the row, for messages
    line: int


def sections(text: str) -> dict[str, str]:
    """``## Heading`` -> body (without HTML comments), in document order."""
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    out: dict[str, str] = {}
    parts = re.split(r"^##\s+(.+?)\s*$", text, flags=re.M)
    for i in range(1, len(parts), 2):
        out[parts[i].strip()] = parts[i + 1].strip()
    return out


def table_rows(body: str) -> list[tuple[int, list[str]]]:
    """(line number within body, cells) of a Markdown table's data rows (header and separator skipped)."""
    rows = []
    seen_separator = False
    for n, line in enumerate(body.splitlines(), 1):
        line = line.strip()
        if not line.startswith("|"):
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        if all(re.fullmatch(r":?-{3,}:?", c) for c in cells if c):
            seen_separator = True
            continue
        if seen_separator:
            rows.append((n, cells))
    return rows


def _clock(cell: str) -> float | None:
    match = _CLOCK.match(cell.strip().strip("`*"))
    if not match:
        return None
    h, m, s = int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)
    return h * 3600 + m * 60 + s if h < 24 and m < 60 and s < 60 else None


def metadata(text: str) -> dict[str, str]:
    """The key/value table under the title (Date, Incident, Status, Severity, Authors)."""
    head = re.split(r"^##\s", text, maxsplit=1, flags=re.M)[0]
    return {cells[0]: cells[1] for _, cells in table_rows(head) if len(cells) >= 2 and cells[0]}


def run_id(text: str) -> str | None:
    """The drill run id named in the Incident row (its first word)."""
    incident = metadata(text).get("Incident", "")
    word = incident.split()[0] if incident.split() else ""
    return word.strip("`*") or None


def lint(text: str) -> list[Finding]:
    found: list[Finding] = []
    if not re.search(r"^#\s+\S", text, re.M):
        found.append(Finding("title", "no '# Postmortem: ...' title line", "start with a one-line title"))
    authors = metadata(text).get("Authors", "")
    if not authors or PLACEHOLDER.search(authors):
        found.append(Finding("authors", "no author named in the Authors row", "write your name (or team)"))
    body = sections(text)
    for name in REQUIRED_SECTIONS:
        if name not in body:
            found.append(Finding("section", f"section '## {name}' is missing", "keep every heading of the template"))
        elif not body[name] or PLACEHOLDER.search(body[name]):
            what = "is empty" if not body[name] else f"still has a placeholder ({PLACEHOLDER.search(body[name])[0]})"
            found.append(Finding("section", f"section '{name}' {what}",
                                 "write it: a few sentences about systems and decisions, never about who to blame"))
    if "Action items" in body:
        rows = [cells for _, cells in table_rows(body["Action items"])]
        good = [c for c in rows if len(c) >= 3 and c[0] and not PLACEHOLDER.search(c[0])
                and c[1].lower() in ACTION_TYPES and c[2] and not PLACEHOLDER.search(c[2])]
        if not good:
            found.append(Finding("action-items", "no action item with a type and an owner",
                                 f"add a row: | what to do | {' / '.join(ACTION_TYPES)} | owner | ticket |"))
    return found


def timeline(text: str) -> tuple[list[Row], list[Finding]]:
    body = sections(text).get("Timeline", "")
    rows, found = [], []
    for n, cells in table_rows(body):
        clock = _clock(cells[0]) if cells else None
        if clock is None:
            found.append(Finding("timeline", f"timeline row {' | '.join(cells)[:60]!r} does not start with a time "
                                 "(HH:MM:SS, UTC)", "first column: the UTC time of the event"))
            continue
        rows.append(Row(clock, " | ".join(cells[1:]), n))
    if not rows and not found:
        found.append(Finding("timeline", "the timeline has no rows", "keep the draft's timeline table"))
    for a, b in itertools.pairwise(rows):
        if _signed(b.clock - a.clock) < 0:  # on the clock circle, so a timeline may run past midnight
            found.append(Finding("timeline", f"the timeline is out of order: {_fmt(b.clock)} comes after "
                                 f"{_fmt(a.clock)}", "sort the rows by time"))
    return rows, found


def _fmt(clock: float) -> str:
    return f"{int(clock // 3600):02d}:{int(clock % 3600 // 60):02d}:{int(clock % 60):02d}"


def _signed(delta: float) -> float:
    """A clock difference folded into (-12 h, +12 h]: 00:01 is 2 min after 23:59, 23:52 is 30 min before 00:22."""
    return DAY / 2 - (DAY / 2 - delta) % DAY


def _tod(ts: float) -> float:
    d = datetime.fromtimestamp(ts, UTC)
    return d.hour * 3600 + d.minute * 60 + d.second + d.microsecond / 1e6


def _distance(a: float, b: float) -> float:
    d = abs(a - b) % DAY
    return min(d, DAY - d)


def key_moments(journal: Any) -> list[tuple[str, float, tuple[str, ...]]]:
    """(what, unix time, words a row about it contains) the timeline must show, from a drill journal."""
    start = journal.injected_at or journal.started_at
    moments = [("the fault started", start, ("inject", "fault", "start", "release", "deploy", "change"))]
    pages = [p for p in journal.result.get("pages", []) if p.get("alertname") != "Watchdog"
             and (p.get("paged_at") or 0) >= start]
    if pages:
        first = min(pages, key=lambda p: p["paged_at"])
        name = str(first.get("alertname"))
        moments.append((f"the first page ({name})", float(first["paged_at"]), ("page", "alert", name.lower())))
    if journal.acked_at is not None:
        moments.append(("the acknowledgement", journal.acked_at, ("ack",)))
    if journal.passed_at is not None:
        moments.append(("the mitigation (checks passed)", journal.passed_at,
                        ("pass", "mitigat", "recover", "resolv", "fixed")))
    return moments


def lint_timeline(text: str, journal: Any) -> list[Finding]:
    rows, found = timeline(text)
    if not rows:
        return found
    for what, at, words in key_moments(journal):
        clock = _tod(at)
        if not any(_distance(r.clock, clock) <= TOLERANCE_S and any(w in r.text.lower() for w in words)
                   for r in rows):
            found.append(Finding("timeline", f"{what} at {_fmt(clock)} UTC is not on the timeline",
                                 "keep every recorded moment at its recorded time (the draft has them all), "
                                 f"described with one of: {', '.join(words[:3])}"))
    start = (journal.injected_at or journal.started_at) - SLACK_BEFORE_S
    end = (journal.passed_at or journal.stopped_at or start) + SLACK_AFTER_S
    first, last = _tod(start), _tod(end)
    for r in rows:
        if _distance(r.clock, first) + _distance(r.clock, last) > _distance(first, last) + 1:  # outside the arc
            found.append(Finding("timeline", f"the row at {_fmt(r.clock)} ({r.text[:40]}) lies outside the incident "
                                 f"({_fmt(first)}-{_fmt(last)} UTC)",
                                 "times are UTC; check for a local-time or typo in the hour"))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Lint a postmortem (sections, action items, timeline).")
    parser.add_argument("file")
    parser.add_argument("--run", help="drill run id to check the timeline against (default: the Incident row)")
    args = parser.parse_args(argv)
    try:
        text = open(args.file, encoding="utf-8").read()  # noqa: SIM115 - one read
    except OSError as exc:
        print(f"error: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 2
    findings = lint(text)
    rid = args.run or run_id(text)
    if rid:
        from labs.drills import journal as jr

        j = jr.load_run(rid)
        findings += lint_timeline(text, j) if j is not None else [Finding("incident", f"no drill run {rid!r} found")]
    for f in findings:
        print(f"{args.file}: [{f.rule}] {f.message}" + (f" -- {f.hint}" if f.hint else ""))
    print(f"{len(findings)} finding(s)")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
