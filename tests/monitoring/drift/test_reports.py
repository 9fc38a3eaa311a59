"""Reports on disk: an Evidently page and a strict JSON file per run, newest first, pruned to the newest N."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monitoring.drift import index_page
from monitoring.drift.reports import ReportStore
from tests.monitoring.drift.traffic import log_traffic


def _strict(text: str) -> dict:
    def refuse(constant: str) -> None:
        raise ValueError(f"non-standard JSON constant {constant}")

    return json.loads(text, parse_constant=refuse)


def test_reports_are_written_listed_newest_first_and_pruned(make_monitor, lab_state: Path) -> None:
    log_traffic(lab_state / "predictions.db", lab_state / "models", "v1", 600, 1, "feed-broken-null")
    monitor = make_monitor(reports_keep=2)
    runs = [monitor.run_once() for _ in range(3)]
    root = lab_state / "reports" / "drift"
    kept = sorted(p.name for p in root.iterdir())
    expected = sorted(name for r in runs[1:] for name in (r.html_file, r.json_file))
    assert kept == expected  # the oldest run's pair is gone, nothing else is left behind

    entries = monitor.reports.entries()
    assert [e.json_file for e in entries] == [runs[2].json_file, runs[1].json_file]
    page = (root / str(runs[2].html_file)).read_text()
    assert "<html" in page[:500] and "drawDashboard" in page
    report = _strict((root / str(runs[2].json_file)).read_text())  # NaN-free: a browser can parse it
    assert report["summary"]["features"][3]["name"] == "traffic_index"
    assert report["summary"]["features"][3]["score"] is None
    assert any(m["metric_name"].startswith("MAE(") for m in report["evidently"]["metrics"])

    html = index_page.render(entries, monitor.last)
    assert html.index(str(runs[2].html_file)) < html.index(str(runs[1].html_file))
    assert "traffic_index 100%" in html  # the missing share is in the listing


@pytest.mark.parametrize("name", ["../predictions.db", "drift-x.html", "drift-20261125T151502-123Z.txt",
                                  "/etc/passwd", "drift-20261125T151502-123Z.html/../../x"])
def test_only_report_names_resolve(tmp_path: Path, name: str) -> None:
    (tmp_path / "predictions.db").write_text("secret")
    assert ReportStore(tmp_path / "drift", keep=3).path(name) is None


def test_same_millisecond_runs_get_distinct_names(tmp_path: Path) -> None:
    store = ReportStore(tmp_path, keep=3)
    first = store.new_stem(1_790_000_000.5)
    (tmp_path / f"{first}.json").write_text("{}")
    second = store.new_stem(1_790_000_000.5)
    assert second != first and second.startswith(first)
    (tmp_path / f"{second}.json").write_text("{}")
    assert store.stems() == [second, first]  # newest first
