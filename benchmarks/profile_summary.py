"""Where the time goes, from py-spy's raw (collapsed-stack) output: per thread, top functions, self and total.

    .venv/bin/python benchmarks/profile_summary.py /tmp/prof/c.txt            # what service_bench --profile wrote
    .venv/bin/python benchmarks/profile_summary.py /tmp/prof/c.txt --top 15 --match model_service
    .venv/bin/python benchmarks/profile_summary.py /tmp/prof/c.txt --group "log writer=PredictionLog._run" \
        --group "validation=model_validate_json"      # where the time goes, in your own words

A raw file has one line per distinct stack: ``thread (tid): name;frame (file:line);...;frame COUNT``.
Frames are merged by function and file (line numbers dropped). "total" counts a sample once for every
function on its stack (recursion counted once); "self" only for the innermost frame. Percentages are of
all samples of all threads, i.e. of the CPU the process used while sampled (py-spy skips idle threads).
``--within TEXT`` keeps only the samples with such a frame (one part of a process, e.g. the monitor's runs).
``--group NAME=TEXT[,TEXT]`` rolls samples up into named parts: a sample belongs to the group of its innermost
frame whose function or file contains one of a group's texts (the first such group, in the order given), so
a library called from two places counts where it was called from unless it has a group of its own; samples
matching no group are "other".
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

_LINE = re.compile(r" \(([^()]*?):\d+\)$")
NO_FRAME = "(no Python frame)"  # a thread in C code: the event loop's own, or a C extension


def function(frame: str) -> str:
    """``f (pkg/mod.py:12)`` -> ``f (pkg/mod.py)``."""
    return _LINE.sub(r" (\1)", frame.strip())


def load(path: Path) -> list[tuple[str, list[str], int]]:
    """(thread name, frames root first, samples) per line."""
    stacks = []
    for line in Path(path).read_text().splitlines():
        body, _, count = line.rpartition(" ")
        if not body or not count.isdigit():
            continue
        frames = body.split(";")
        thread = "(all)"  # recorded without --threads: no thread name in front
        if frames[0].startswith(("thread ", "process ")):
            thread = frames.pop(0).split(": ", 1)[-1]
        stacks.append((thread, [function(f) for f in frames] or [NO_FRAME], int(count)))
    return stacks


def grouped(stacks: list[tuple[str, list[str], int]], groups: list[tuple[str, list[str]]]) -> str:
    """Each sample in the group of its innermost matching frame; shares of all samples."""
    total = sum(n for _, _, n in stacks) or 1
    counts: Counter[str] = Counter()
    for _, frames, n in stacks:
        name = next((g for f in reversed(frames) for g, texts in groups if any(t in f for t in texts)), "other")
        counts[name] += n
    order = [g for g, _ in groups] + ["other"]
    return "\n".join(f"  {counts[g] / total:6.1%}  {g}" for g in order)


def summarise(stacks: list[tuple[str, list[str], int]], top: int, match: str = "") -> str:
    total = sum(n for _, _, n in stacks) or 1
    threads: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    for thread, frames, n in stacks:
        threads[thread] += n
        for f in set(frames):
            inclusive[f] += n
        own[frames[-1]] += n
    out = [f"{total} samples", "threads: " + ", ".join(f"{t} {n / total:.0%}" for t, n in threads.most_common())]
    for title, counter in (("total (function on the stack)", inclusive), ("self (innermost frame)", own)):
        out.append(f"\n{title}:")
        rows = [(f, n) for f, n in counter.most_common() if match in f][:top]
        out += [f"  {n / total:6.1%}  {f}" for f, n in rows]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--match", default="", help="only functions whose name or file contains this")
    parser.add_argument("--group", action="append", default=[], metavar="NAME=TEXT[,TEXT]",
                        help="print shares per group instead (repeatable; the innermost matching frame decides)")
    parser.add_argument("--within", default="", metavar="TEXT",
                        help="only samples with a frame containing TEXT, e.g. Monitor.run_once")
    args = parser.parse_args()
    groups = []
    for spec in args.group:
        name, sep, texts = spec.partition("=")
        if not sep or not texts:
            parser.error(f"--group {spec!r}: expected NAME=TEXT[,TEXT]")
        groups.append((name, texts.split(",")))
    for path in args.files:
        stacks = [s for s in load(path) if any(args.within in f for f in s[1])]
        print(f"== {path}" + (f" (samples within {args.within})" if args.within else ""))
        print(grouped(stacks, groups) if groups else summarise(stacks, args.top, args.match))


if __name__ == "__main__":
    main()
