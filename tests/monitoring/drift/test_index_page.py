"""The reports index page (GET /reports): a drifted run never reads green, and the trend of the kept runs is
drawn in the page itself (inline SVG), which a real browser shows without asking any other host for anything."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitoring.drift import index_page, trend
from monitoring.drift.summary import DatasetDrift, FeatureResult, PredictionDrift, Quality, RunSummary, WindowInfo
from tests.support.http_server import directory_handler, serving

FEATURES = ("distance_km", "items_count", "is_peak_hour", "traffic_index", "courier_experience_months")


def run(started_at: float, drifted: tuple[str, ...] = (), prediction_drifted: bool = False, share: float | None = None,
        mae_s: float | None = 300.0) -> RunSummary:
    """A successful run where the features in ``drifted`` drifted; the dataset verdict follows its 0.5 threshold."""
    share = len(drifted) / len(FEATURES) if share is None else share
    stem = f"drift-{int(started_at)}"
    return RunSummary(
        run_id=stem, started_at=started_at, outcome="success", model_version="v1", window=WindowInfo(rows=800),
        dataset=DatasetDrift(share=share, drifted=share >= 0.5, threshold=0.5, tested_features=len(FEATURES)),
        prediction=PredictionDrift(method="wasserstein", threshold=0.1, score=0.3 if prediction_drifted else 0.02,
                                   drifted=prediction_drifted),
        features=[FeatureResult(name=f, method="wasserstein", threshold=0.1, score=0.4 if f in drifted else 0.01,
                                drifted=f in drifted) for f in FEATURES],
        quality=Quality(rows=200, mae_seconds=mae_s, training_mae_seconds=240.0),
        html_file=f"{stem}.html", json_file=f"{stem}.json")


def _row_of(html: str, summary: RunSummary) -> str:
    at = html.index(str(summary.html_file))
    return html[html.rindex("<tr", 0, at):html.index("</tr>", at)]


def test_a_feature_that_drifted_under_the_dataset_threshold_is_not_shown_as_no_drift() -> None:
    """The reported bug: one of five features drifted, share 0.20 < 0.50, and the row said a green "no drift"."""
    summary = run(1_790_000_000.0, drifted=("distance_km",))
    assert summary.dataset is not None and summary.dataset.drifted is False
    row = _row_of(index_page.render([summary], summary), summary)
    assert 'class="ok"' not in row and "no drift" not in row
    assert row.startswith('<tr class="drifted"') and "1 feature drifted (under the 50% dataset threshold)" in row


@pytest.mark.parametrize(("summary", "css", "words"), [
    (run(1.0), "ok", "no drift"),
    (run(1.0, drifted=FEATURES[:3]), "drift", "DRIFT"),
    (run(1.0, prediction_drifted=True), "drift", "predictions drifted"),
    (run(1.0, drifted=FEATURES[:2]), "drift", "2 features drifted (under the 50% dataset threshold)"),
])
def test_green_only_when_nothing_drifted(summary: RunSummary, css: str, words: str) -> None:
    assert index_page.verdict(summary) == (css, words)


def test_the_trend_follows_the_runs_oldest_first_with_the_thresholds() -> None:
    runs = [run(1_790_000_300.0, drifted=FEATURES[:3], mae_s=600.0), run(1_790_000_000.0),
            run(1_790_000_150.0, drifted=FEATURES[:1], mae_s=420.0)]
    share, pred, mae = trend.panels(runs)
    assert [p for p in share.series[0].points] == [(1_790_000_000.0, 0.0), (1_790_000_150.0, 0.2),
                                                   (1_790_000_300.0, 0.6)]
    assert share.thresholds == [(0.5, "red")] and pred.thresholds == [(0.1, "red")]
    assert [v for _, v in mae.series[0].points] == [300.0, 420.0, 600.0] and mae.thresholds == [(240.0, "orange")]
    html = index_page.render(runs, runs[0])
    assert html.index('<section class="trend">') < html.index("<table")
    section = html[html.index('<section class="trend">'):html.index("</section>")]
    assert "<svg" in section and "<?xml" not in html and "<image" not in section


def test_the_page_in_a_browser_shows_the_drifted_row_in_red_and_the_trend(browser, tmp_path: Path) -> None:
    runs = [run(1_790_000_300.0, drifted=("traffic_index",)), run(1_790_000_000.0)]
    (tmp_path / "reports.html").write_text(index_page.render(runs, runs[0]))
    with serving(directory_handler(tmp_path)) as base:
        page = browser.load(f"{base}/reports.html", wait_for=".trend svg")  # type: ignore[attr-defined]
    assert page.offsite_requests() == [] and page.console_errors == []
    drifted, calm = page.select("tbody tr")
    assert drifted.get_attribute("class") == "drifted" and calm.get_attribute("class") in ("", None)
    verdicts = [row.find_elements("css selector", "td span")[0] for row in (drifted, calm)]
    assert verdicts[0].text.startswith("1 feature drifted")
    assert verdicts[0].value_of_css_property("color") == "rgba(176, 0, 32, 1)"  # .drift, #b00020
    assert verdicts[1].value_of_css_property("color") == "rgba(27, 127, 59, 1)"  # .ok, #1b7f3b
    [svg] = page.select(".trend svg")
    assert svg.size["width"] > 400 and svg.size["height"] > 200
