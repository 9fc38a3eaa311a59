"""``aiops-lab drill validate FILE``: everything wrong with a drill file, each with its file, line and field.

Three passes, each only when the one before passed (a file that is not YAML has no fields to check): the
YAML itself, the schema (``labs.drills.schema``, errors mapped to lines by ``yaml_lines``), then the
references against this lab (``labs.drills.references``). Errors make the file invalid; warnings do not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml
from pydantic import ValidationError

from aiops_core import yaml_text
from labs.drills import catalogue, references
from labs.drills.scaffold import TODO
from labs.drills.schema import Drill
from labs.drills.yaml_lines import line_of, node_lines


@dataclass(frozen=True)
class Problem:
    file: Path
    line: int | None
    field: str
    message: str
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else str(self.file)
        level = "" if self.severity == "error" else "warning: "
        return f"{where}: {level}{self.field + ': ' if self.field else ''}{self.message}"


@dataclass
class Validation:
    file: Path
    drill: Drill | None
    problems: list[Problem]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def valid(self) -> bool:
        return self.drill is not None and not self.errors


def _field(loc: tuple[object, ...]) -> str:
    return ".".join(str(p) for p in loc)


_NAMED = re.compile(r"^(\w+): ")


def _schema_problem(path: Path, lines: dict, loc: tuple[object, ...], where: str, msg: str) -> Problem:
    """A fault's own validator names the key it refuses (``flag: unknown flag ...``): point at that line."""
    named = _NAMED.match(msg)
    if named and line_of((*loc, named.group(1)), lines) != line_of(loc, lines):
        return Problem(path, line_of((*loc, named.group(1)), lines), f"{where}.{named.group(1)}", msg[named.end():])
    return Problem(path, line_of(loc, lines), where if where != "(top level)" else "", msg)


def _todos(value: object, loc: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """Where a ``TODO`` of the scaffold (``aiops-lab drill new``) is still in the file."""
    if isinstance(value, dict):
        return [t for k, v in value.items() for t in _todos(v, (*loc, str(k)))]
    if isinstance(value, list):
        return [t for i, v in enumerate(value) for t in _todos(v, (*loc, i))]
    return [loc] if isinstance(value, str) and TODO in value else []


def is_catalogue_file(path: Path) -> bool:
    return path.resolve().parent == catalogue.CATALOGUE_DIR.resolve()


def validate(path: Path) -> Validation:
    """Validate one drill file (deeply: scenario and corruption names too) and resolve its references."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        return Validation(path, None, [Problem(path, None, "", f"cannot read: {exc.strerror}")])
    except UnicodeDecodeError:
        return Validation(path, None, [Problem(path, None, "", "not a text file (a drill file is UTF-8 YAML)")])
    try:
        lines = node_lines(text)
        raw = yaml_text.load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        return Validation(path, None, [Problem(path, line, "", f"not valid YAML: {getattr(exc, 'problem', exc)}")])
    if not isinstance(raw, dict):
        hint = "expected a mapping of drill fields (id, title, faults, ...); start from: aiops-lab drill new ID"
        return Validation(path, None, [Problem(path, 1, "", hint)])
    user = not is_catalogue_file(path)
    problems = [Problem(path, line_of(loc, lines), _field(loc), f"still a {TODO} of the scaffold: write it")
                for loc in _todos(raw)]
    try:
        drill = Drill.model_validate(raw, context={"shallow": False, "user_drill": user})
    except ValidationError as exc:
        return Validation(path, None, problems + [_schema_problem(path, lines, *err)
                                                  for err in catalogue.validation_lines(path, exc)])
    if drill.id != path.stem:
        problems.append(Problem(path, lines.get(("id",)), "id", f"{drill.id!r} must equal the file name "
                                                                 f"({path.stem!r}): drill start ID finds it by name"))
    clash = catalogue.collision(path, drill.id) if user else None
    if clash is not None:
        problems.append(Problem(path, lines.get(("id",)), "id", clash.removeprefix(f"{path}: ")))
    for ref in references.check(drill, path if user else None):
        problems.append(Problem(path, line_of(ref.loc, lines), _field(ref.loc), ref.message, ref.severity))
    return Validation(path, drill, problems)
