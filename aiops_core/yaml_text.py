"""YAML parsed with libyaml's C parser when PyYAML has it (the wheels do), the pure-Python one otherwise.

The same safe constructors either way; the C parser is ~10x faster, and the CLI parses the whole drill
catalogue (18 files) on most commands: ``yaml.safe_load`` took 400 of ``aiops-lab drill status``'s 1,100 ms
of CPU. ruff's TID251 keeps ``yaml.safe_load`` out of the rest of the code.
"""

from __future__ import annotations

from typing import Any

import yaml

SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load(text: str) -> Any:
    """The document in ``text`` (``None`` when empty); raises ``yaml.YAMLError`` with a ``problem_mark``."""
    return yaml.load(text, Loader=SafeLoader)  # a safe loader: no arbitrary objects
