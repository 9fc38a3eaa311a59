"""``aiops_core.yaml_text``: libyaml's parser where PyYAML has it, with the pure-Python parser's results."""

from __future__ import annotations

import pytest
import yaml

from aiops_core import yaml_text
from aiops_core.paths import REPO_ROOT

SKIP = {".venv", ".lab", ".git", "node_modules"}
FILES = sorted(p for p in REPO_ROOT.rglob("*.y*ml") if not SKIP.intersection(p.relative_to(REPO_ROOT).parts))


def test_the_c_parser_is_used_when_pyyaml_has_it() -> None:
    if not yaml.__with_libyaml__:
        pytest.skip("this PyYAML was built without libyaml: the pure-Python parser is the fallback")
    assert yaml_text.SafeLoader is yaml.CSafeLoader


def test_every_yaml_file_of_the_repo_reads_as_the_pure_python_parser_reads_it() -> None:
    assert len(FILES) > 40  # the catalogue, the rules, the configs, compose, dashboards' provisioning
    for path in FILES:
        text = path.read_text()
        assert yaml_text.load(text) == yaml.load(text, Loader=yaml.SafeLoader), path


@pytest.mark.parametrize("text", ["a: [1, 2", "a: b: c", "- a\nb: 1", "key: \"unterminated"])
def test_bad_yaml_raises_a_yaml_error_with_the_line(text: str) -> None:
    with pytest.raises(yaml.YAMLError) as err:
        yaml_text.load(text)
    mark = getattr(err.value, "problem_mark", None)
    assert mark is not None and mark.line >= 0


def test_nothing_but_plain_data_is_built() -> None:
    with pytest.raises(yaml.YAMLError):
        yaml_text.load("!!python/object/apply:os.system ['true']")


def _lines(node: yaml.Node) -> list[int]:
    """Every node's start line, depth first (what ``labs.drills.yaml_lines`` reads for its error lines)."""
    out, stack = [], [node]
    while stack:
        n = stack.pop()
        out.append(n.start_mark.line)
        if isinstance(n, yaml.MappingNode):
            stack.extend(x for pair in n.value for x in pair)
        elif isinstance(n, yaml.SequenceNode):
            stack.extend(n.value)
    return out


def test_node_lines_are_the_pure_python_parsers() -> None:
    """``drill validate`` names the line of a wrong field from the composed nodes' marks."""
    for path in FILES:
        text = path.read_text()
        ours, theirs = yaml.compose(text, Loader=yaml_text.SafeLoader), yaml.compose(text, Loader=yaml.SafeLoader)
        assert (ours is None) == (theirs is None), path
        if ours is not None:
            assert _lines(ours) == _lines(theirs), path
