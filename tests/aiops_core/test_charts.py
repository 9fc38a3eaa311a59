"""The lab's chart drawing: values read in their Grafana unit, and pictures that carry everything they need."""

from __future__ import annotations

import re

import pytest

from aiops_core import charts


@pytest.mark.parametrize(("unit", "value", "text"), [
    ("percentunit", 0.005, "0.5%"), ("s", 0.25, "250 ms"), ("s", 90, "90 s"), ("s", 600, "10 min"),
    ("reqps", 3.5, "3.5 req/s"), ("cps", 1200, "1.2k/s"), ("suffix: mo", 18, "18 mo"), ("none", 0.123456, "0.123"),
    ("", float("nan"), "nan"),
])
def test_values_read_in_their_unit(unit: str, value: float, text: str) -> None:
    assert charts.formatter(unit)(value) == text


def _rows() -> list[charts.Panel]:
    points = [(1_790_000_000.0 + 10 * i, i / 100) for i in range(30)]
    return [charts.Panel("errors", [charts.Series("5xx", points)], "percentunit", [(0.005, "red")]),
            charts.Panel("quiet", [charts.Series("nothing", [(1_790_000_000.0, float("nan"))])], "s",
                         note="no such events")]


def test_a_png_is_drawn_even_for_a_row_with_nothing_to_show() -> None:
    png = charts.draw(_rows(), 1_790_000_000.0, 1_790_000_300.0,
                      [charts.Marker(1_790_000_100.0, "injection", "fault"), charts.Marker(1_790_000_200.0, "x")])
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000


def test_an_svg_refers_to_no_other_file() -> None:
    """Inline in a page served offline: no <image>, no href to anything but the SVG namespaces' own ids."""
    first = charts.draw(_rows(), 1_790_000_000.0, 1_790_000_300.0, fmt="svg").decode()
    assert "<svg" in first and "<image" not in first
    assert not [h for h in re.findall(r'href="([^"]+)"', first) if not h.startswith("#")]


def test_an_axis_of_seconds_keeps_one_scale() -> None:
    ticks = charts.axis_formatter("s", 350.0)
    assert [ticks(v) for v in (100.0, 150.0, 300.0)] == ["1.67 min", "2.5 min", "5 min"]
    assert charts.axis_formatter("s", 0.3)(0.25) == "250 ms" and charts.axis_formatter("percentunit", 1)(0.5) == "50%"
