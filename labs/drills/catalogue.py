"""The drill catalogue: every ``catalogue/<id>.yml``, validated, in one place (the single source of drills),
and the user's own drills from the directories of ``AIOPS_DRILLS_PATH`` (``aiops_core.paths``).

A malformed file is refused with its path and the offending field (``faults.0.flag``), so an author sees
exactly what to fix. The file name must equal the drill id: ``aiops-lab drill start ID`` and the drill
guide ``runbooks/drills/ID.md`` rely on it. A user drill may keep its guide beside its file, and may not
reuse a catalogue id: ``drill start ID`` must mean one drill.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import ValidationError

from aiops_core import paths, yaml_text
from aiops_core.errors import LabError
from labs.drills.schema import Drill

CATALOGUE_DIR = Path(__file__).resolve().parent / "catalogue"


class CatalogueError(LabError, ValueError):
    """A drill file is malformed; the message names the file and the field."""


class UserDrillError(CatalogueError):
    """A user drill (``AIOPS_DRILLS_PATH``) is malformed or reuses an id: the user's input, not the lab's bug."""


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


def validation_lines(path: Path, exc: ValidationError) -> list[tuple[tuple[object, ...], str, str]]:
    """(pydantic loc, ``faults.0.flag``, message) for each error of a drill file."""
    return [(tuple(err["loc"]), _location(err["loc"]) or "(top level)", err["msg"].removeprefix("Value error, "))
            for err in exc.errors()]


def load_file(path: Path, deep: bool = True, user: bool = False) -> Drill:
    """Parse and validate one drill file (``deep=False`` skips the names that need pandas/scikit-learn;
    ``user``: a user drill, whose guide may live beside the file)."""
    try:
        raw = yaml_text.load(Path(path).read_text())
    except yaml.YAMLError as exc:
        raise CatalogueError(f"{path}: not valid YAML: {exc}") from None
    except OSError as exc:
        raise CatalogueError(f"{path}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise CatalogueError(f"{path}: not a text file (a drill file is UTF-8 YAML)") from None
    if not isinstance(raw, dict):
        raise CatalogueError(f"{path}: expected a mapping of drill fields (id, title, faults, ...)")
    try:
        drill = Drill.model_validate(raw, context={"shallow": not deep, "user_drill": user})
    except ValidationError as exc:
        error = UserDrillError if user else CatalogueError
        raise error("\n".join(f"{path}: {where}: {msg}" for _, where, msg in validation_lines(path, exc))) from None
    if drill.id != Path(path).stem:
        raise (UserDrillError if user else CatalogueError)(
            f"{path}: id: {drill.id!r} must equal the file name ({Path(path).stem!r})")
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


# --- the user's drills (AIOPS_DRILLS_PATH) -------------------------------------------------------------------


@dataclass
class UserDrills:
    """What the directories of ``AIOPS_DRILLS_PATH`` hold: valid drills by id (with their file), and one
    problem line per refused file -- a broken draft must not hide the catalogue from ``drill list``."""

    drills: dict[str, tuple[Drill, Path]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)  # id (file stem) -> why it cannot be used


def collision(path: Path, drill_id: str) -> str | None:
    """Why a user drill file may not use ``drill_id`` (a catalogue drill has it), naming both files."""
    if drill_id in catalogue() and Path(path).resolve() != (CATALOGUE_DIR / f"{drill_id}.yml").resolve():
        return (f"{path}: id {drill_id!r} is already the catalogue drill {CATALOGUE_DIR / f'{drill_id}.yml'}; "
                "rename the user drill (its file and its id)")
    return None


def user_drills(deep: bool = False) -> UserDrills:
    """Every drill file in the ``AIOPS_DRILLS_PATH`` directories (not cached: an author edits them)."""
    found = UserDrills()
    for directory in paths.user_drill_dirs():
        if directory.resolve() == CATALOGUE_DIR.resolve():
            continue  # the catalogue itself on the path: its drills are listed once, as catalogue drills
        if not directory.is_dir():
            found.problems.append(f"AIOPS_DRILLS_PATH: {directory} is not a directory")
            continue
        for path in sorted(directory.glob("*.y*ml")):
            why = collision(path, path.stem)
            if why is None and path.stem in found.drills:
                why = f"{path}: id {path.stem!r} is already the user drill {found.drills[path.stem][1]}"
            if why is None:
                try:
                    found.drills[path.stem] = (load_file(path, deep, user=True), path)
                    continue
                except CatalogueError as exc:
                    why = str(exc)
            found.problems.append(why)
            found.refused.setdefault(path.stem, why)
    return found


def source(drill_id: str) -> Path | None:
    """The file of a user drill (None: a catalogue drill). Raises like ``get`` for an unusable one."""
    users = user_drills()
    if drill_id in users.refused:
        raise UserDrillError(users.refused[drill_id])  # a broken draft, or a user file reusing a catalogue id
    if drill_id in catalogue():
        return None
    if drill_id in users.drills:
        return users.drills[drill_id][1]
    valid = [*catalogue(), *users.drills]
    raise KeyError(f"unknown drill {drill_id!r}; valid ids: {', '.join(valid)}")


def get(drill_id: str, deep: bool = False, file: Path | str | None = None) -> Drill:
    """One drill by id (``deep``: fully validated, as ``drill start`` needs); KeyError lists the valid ids.

    A user drill is found on ``AIOPS_DRILLS_PATH``, or read from ``file`` when the caller knows it (a running
    drill's journal records its file, so another terminal needs no ``AIOPS_DRILLS_PATH``)."""
    if file is not None:
        return load_file(Path(file), deep=deep, user=True)
    path = source(drill_id)
    if path is not None:
        return load_file(path, deep=deep, user=True)
    drills = catalogue()
    return load_file(CATALOGUE_DIR / f"{drill_id}.yml", deep=True) if deep else drills[drill_id]


def guide_path(drill: Drill, file: Path | str | None = None) -> Path:
    """The drill guide (first runbook): beside a user drill's file when it is there, else in the repository."""
    if file is not None:
        beside = Path(file).resolve().parent / drill.runbooks[0]
        if beside.is_file():
            return beside
    return paths.REPO_ROOT / drill.runbooks[0]
