"""The drill catalogue: every ``catalogue/<id>.yml``, validated, in one place (the single source of drills).

A malformed file is refused with its path and the offending field (``faults.0.flag``), so an author sees
exactly what to fix. The file name must equal the drill id: ``aiops-lab drill start ID`` and the drill
guide ``runbooks/drills/ID.md`` rely on it.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import ValidationError

from aiops_core.errors import LabError
from labs.drills.schema import Drill

CATALOGUE_DIR = Path(__file__).resolve().parent / "catalogue"


class CatalogueError(LabError, ValueError):
    """A drill file is malformed; the message names the file and the field."""


def _union_tags() -> set[str]:
    from typing import get_args

    from labs.drills import schema

    tags: set[str] = set()
    for union in (schema.Fault, schema.Check):
        for member in get_args(get_args(union)[0]):
            tags.update(get_args(member.model_fields["type"].annotation))
    return tags


def _location(loc: tuple[object, ...]) -> str:
    """``('faults', 0, 'config_flag', 'flag')`` -> ``faults.0.flag``: drop the tag pydantic adds for unions."""
    tags = _union_tags()
    kept = [str(p) for i, p in enumerate(loc) if not (i > 0 and isinstance(loc[i - 1], int) and p in tags)]
    return ".".join(kept)


def load_file(path: Path, deep: bool = True) -> Drill:
    """Parse and validate one drill file (``deep=False`` skips the names that need pandas/scikit-learn)."""
    try:
        raw = yaml.safe_load(Path(path).read_text())
    except yaml.YAMLError as exc:
        raise CatalogueError(f"{path}: not valid YAML: {exc}") from None
    except OSError as exc:
        raise CatalogueError(f"{path}: cannot read: {exc.strerror}") from None
    if not isinstance(raw, dict):
        raise CatalogueError(f"{path}: expected a mapping of drill fields (id, title, faults, ...)")
    try:
        drill = Drill.model_validate(raw, context={"shallow": not deep})
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            where = _location(err["loc"]) or "(top level)"
            msg = err["msg"].removeprefix("Value error, ")
            lines.append(f"{path}: {where}: {msg}")
        raise CatalogueError("\n".join(lines)) from None
    if drill.id != Path(path).stem:
        raise CatalogueError(f"{path}: id: {drill.id!r} must equal the file name ({Path(path).stem!r})")
    return drill


def load_all(directory: Path = CATALOGUE_DIR, deep: bool = True) -> dict[str, Drill]:
    """Every drill in ``directory`` by id, sorted by id. All errors of all files are reported together."""
    drills: dict[str, Drill] = {}
    errors: list[str] = []
    for path in sorted(Path(directory).glob("*.y*ml")):
        try:
            drill = load_file(path, deep)
        except CatalogueError as exc:
            errors.append(str(exc))
            continue
        drills[drill.id] = drill
    if errors:
        raise CatalogueError("\n".join(errors))
    return drills


@lru_cache(maxsize=1)
def catalogue() -> dict[str, Drill]:
    """The shipped catalogue, shallow-validated (cached: the files do not change while a command runs)."""
    return load_all(CATALOGUE_DIR, deep=False)


def get(drill_id: str, deep: bool = False) -> Drill:
    """One drill by id (``deep``: fully validated, as ``drill start`` needs); KeyError lists the valid ids."""
    drills = catalogue()
    if drill_id not in drills:
        raise KeyError(f"unknown drill {drill_id!r}; valid ids: {', '.join(drills)}")
    return load_file(CATALOGUE_DIR / f"{drill_id}.yml", deep=True) if deep else drills[drill_id]
