"""``aiops-lab dashboard``: errors that name the fix (an unknown dashboard lists the real ones, a dead
Prometheus exits 3), and a render against a real Prometheus that writes the page and says where it is.

Whether every panel of every dashboard draws on real traffic is tests/grafana's integration test, which
renders on the Prometheus it already feeds."""

from __future__ import annotations

from pathlib import Path

from aiops_core.errors import ExitStatus
from labs.dashboards.render import load
from tests.support.lab import Lab
from tests.support.prometheus import running_prometheus


def test_an_unknown_dashboard_is_refused_with_the_names_there_are(tmp_path: Path) -> None:
    result = Lab.create(tmp_path / "state").run("dashboard", "render", "latency")
    assert result.exit_code == ExitStatus.USAGE
    assert "no dashboard called 'latency'; choose one of: incident, model, service" in result.text


def test_a_window_too_short_to_draw_names_the_option(tmp_path: Path) -> None:
    result = Lab.create(tmp_path / "state").run("dashboard", "render", "service", "--since", "20s")
    assert result.exit_code == ExitStatus.USAGE and "--since '20s' is too short" in result.text


def test_without_prometheus_it_exits_3_and_says_how_to_check(tmp_path: Path) -> None:
    """The lab environment points Prometheus at a port nobody listens on."""
    result = Lab.create(tmp_path / "state").run("dashboard", "render", "service")
    assert result.exit_code == ExitStatus.NOT_RUNNING
    assert "is not reachable" in result.text and "aiops-lab status" in result.text
    assert not (tmp_path / "state" / "reports" / "dashboards").exists(), "no page without data"


def test_render_writes_the_page_and_lists_what_drew_nothing(tmp_path: Path) -> None:
    """A Prometheus scraping only itself: the incident board's panels about the service and pager are empty,
    and both the terminal and the page say so rather than drawing blank frames silently."""
    with running_prometheus(tmp_path, {}) as prom:
        lab = Lab.create(tmp_path / "state", AIOPS_PROMETHEUS_URL=prom.url)
        result = lab.run("dashboard", "render", "incident", "--since", "5m", "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    page = tmp_path / "out" / "incident.html"
    assert f"open it: {page.resolve().as_uri()}" in result.text
    assert "empty: Drill running: no data in this window" in result.text
    html = page.read_text()
    panels = len(load("incident")[1]["panels"])
    assert html.count("<figure") == panels and html.count('src="data:image/png;base64,') == panels
    assert "Drill running: no data in this window" in html
