"""Metric names referenced by a PromQL expression, without a PromQL parser.

Good enough for the lab's expressions and Grafana targets: strings, label matchers, ranges, grouping
clauses and Grafana variables are removed; what is left that is not a keyword or a function call is a
metric name. The cross-reference test proves it catches a typo (a negative case), so a silent miss here
would show up there.
"""

from __future__ import annotations

import re

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_NAME_MATCHER = re.compile(r'__name__\s*=\s*"([^"]+)"')
_BRACES = re.compile(r"\{[^{}]*\}")
_BRACKETS = re.compile(r"\[[^\[\]]*\]")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)")
_COMMENT = re.compile(r"#[^\n]*")
_GRAFANA_VAR = re.compile(r"\$\{?\w+(?::\w+)?\}?")
_IDENT = re.compile(r"(?<![\w:.$])([A-Za-z_:][\w:]*)(?![\w:])(\s*\()?")
KEYWORDS = frozenset({
    "and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset",
    "inf", "nan", "Inf", "NaN", "atan2", "start", "end",
})


def metric_names(expr: str) -> set[str]:
    """Every metric name selected by ``expr`` (function and aggregation names excluded)."""
    names = set(_NAME_MATCHER.findall(expr))
    text = _COMMENT.sub(" ", expr)
    text = _STRING.sub('""', text)
    text = _GRAFANA_VAR.sub(" ", text)
    while True:  # nested braces do not occur in PromQL, but strip repeatedly to be safe
        stripped = _BRACES.sub(" ", _BRACKETS.sub(" ", text))
        if stripped == text:
            break
        text = stripped
    text = _GROUPING.sub(" ", text)
    for match in _IDENT.finditer(text):
        name, call = match.group(1), match.group(2)
        if call or name in KEYWORDS:
            continue
        names.add(name)
    return names
