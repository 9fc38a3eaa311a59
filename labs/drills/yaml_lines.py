"""Line numbers of a YAML document's fields, so an error can say ``drill.yml:23: faults.1.flag``.

pydantic reports *where* in the data a value is wrong (its ``loc``: ``('faults', 1, 'config_flag', 'flag')``);
``yaml.compose`` keeps where each node was in the text. Walking both together gives the line an author
must edit -- the field's own line, or its parent's when the field is missing.
"""

from __future__ import annotations

from collections.abc import Sequence

import yaml

from aiops_core import yaml_text

Path_ = tuple[str | int, ...]


def node_lines(text: str) -> dict[Path_, int]:
    """Every key and list item of the document -> its 1-based line (``()`` is the document itself)."""
    root = yaml.compose(text, Loader=yaml_text.SafeLoader)
    lines: dict[Path_, int] = {}
    if root is None:
        return lines
    stack: list[tuple[Path_, yaml.Node]] = [((), root)]
    lines[()] = root.start_mark.line + 1
    while stack:
        path, node = stack.pop()
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                here = (*path, str(key.value))
                lines[here] = key.start_mark.line + 1
                stack.append((here, value))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                here = (*path, i)
                lines[here] = item.start_mark.line + 1
                stack.append((here, item))
    return lines


def line_of(loc: Sequence[object], lines: dict[Path_, int]) -> int | None:
    """The line of the deepest part of ``loc`` the document has. Parts it lacks are skipped: the union tag
    pydantic inserts (``config_flag``) and a missing field (reported on its parent's line)."""
    path: Path_ = ()
    for part in loc:
        key = part if isinstance(part, int) else str(part)
        if (*path, key) in lines:
            path = (*path, key)
    return lines.get(path)
