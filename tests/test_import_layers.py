"""The import graph of the lab's packages: no upward edge, no package cycle, click only in the CLI.

Layers, bottom to top (``aiops_core/__init__.py`` says why). A module may import from its own layer or any
layer below; an import from above, even inside a function, is a layering bug: it is how cycles start.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

from aiops_core.paths import REPO_ROOT

LAYERS: tuple[tuple[str, ...], ...] = (
    ("aiops_core",),
    ("model_service",),
    ("monitoring",),
    ("grafana",),
    ("labs.pager", "labs.traffic_feed", "labs.dashboards"),
    ("labs.stack",),
    ("labs.runtime",),
    ("labs.load",),
    ("labs.drills",),
    ("labs.curriculum", "labs.gameday"),
    ("labs.cli",),
)
ROOTS = ("aiops_core", "model_service", "monitoring", "grafana", "labs")


def layer_of(module: str) -> int:
    best = -1, -1  # (prefix length, layer)
    for i, layer in enumerate(LAYERS):
        for prefix in layer:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best[0]:
                best = len(prefix), i
    if best[1] < 0:
        raise AssertionError(f"{module} belongs to no layer: add its package to LAYERS in {__file__}")
    return best[1]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO_ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_of(module: str, path: Path) -> str:
    return module if path.name == "__init__.py" else module.rpartition(".")[0]


def imports() -> list[tuple[str, str, str, int]]:
    """(importing module, its package, imported module, line) for every import of a lab package."""
    found = []
    for root in ROOTS:
        for path in sorted((REPO_ROOT / root).rglob("*.py")):
            mod = module_name(path)
            pkg = package_of(mod, path)
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
                else:
                    continue
                for name in names:
                    if name.split(".")[0] in ROOTS:
                        found.append((mod, pkg, name, node.lineno))
    return found


def existing_package(name: str) -> str:
    """The package a dotted import name lives in (``labs.drills.engine`` -> ``labs.drills``)."""
    parts = name.split(".")
    for n in range(len(parts), 0, -1):
        candidate = REPO_ROOT.joinpath(*parts[:n])
        if (candidate / "__init__.py").is_file():
            return ".".join(parts[:n])
    return parts[0]


def test_every_module_belongs_to_a_layer() -> None:
    for mod, _, _, _ in imports():
        layer_of(mod)


def test_no_module_imports_from_a_layer_above_its_own() -> None:
    upward = [f"{mod}:{line} imports {name} (layer {layer_of(name)} > {layer_of(mod)})"
              for mod, _, name, line in imports() if layer_of(name) > layer_of(mod)]
    assert not upward, "upward imports:\n" + "\n".join(sorted(set(upward)))


def test_no_cycles_between_packages() -> None:
    graph: dict[str, set[str]] = defaultdict(set)
    for _, pkg, name, _ in imports():
        target = existing_package(name)
        if target != pkg and not pkg.startswith(target + ".") and not target.startswith(pkg + "."):
            graph[pkg].add(target)
    cycles = _cycles(graph)
    assert not cycles, "package cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_only_the_cli_knows_click() -> None:
    offenders = sorted({f"{mod}:{line}" for mod, line in _third_party("click") if not mod.startswith("labs.cli")})
    assert not offenders, f"click imported outside labs.cli: {offenders}"


def _third_party(top: str) -> list[tuple[str, int]]:
    out = []
    for root in ROOTS:
        for path in (REPO_ROOT / root).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                mods = ([a.name for a in node.names] if isinstance(node, ast.Import)
                        else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
                if any(m == top or m.startswith(top + ".") for m in mods):
                    out.append((module_name(path), node.lineno))
    return out


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one package (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in list(graph):
        if v not in index:
            visit(v)
    return out


@pytest.mark.parametrize(("module", "layer"), [("aiops_core.http", 0), ("labs.cli.main", 10),
                                               ("labs.drills.engine", 8), ("monitoring.drift.server", 2)])
def test_layer_lookup(module: str, layer: int) -> None:
    assert layer_of(module) == layer


def test_the_checks_catch_an_upward_import_and_a_cycle() -> None:
    """The checks themselves can fail: an edge from model_service up to labs, and a two-package loop."""
    assert layer_of("labs.drills.engine") > layer_of("model_service.app")
    assert _cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]
