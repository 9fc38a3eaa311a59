"""GET /reports: the kept runs, newest first, with the figures a learner scans for before opening a report,
under a trend chart of the same runs (``trend``). A run is shown green only when nothing drifted."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape

from monitoring.drift import trend
from monitoring.drift.summary import RunSummary

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#222}
table{border-collapse:collapse}td,th{padding:.35rem .7rem;border-bottom:1px solid #ddd;text-align:left}
th{background:#f4f4f4}.drift{color:#b00020;font-weight:600}.ok{color:#1b7f3b}.muted{color:#777}
tr.drifted{background:#fff4f4}.trend svg{max-width:100%;height:auto}
"""


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _num(x: float | None, fmt: str = "{:.3f}") -> str:
    return "-" if x is None else fmt.format(x)


def verdict(s: RunSummary) -> tuple[str, str]:
    """(css class, words) of a run's drift verdict. Green only when nothing drifted: a feature (or the
    predictions) drifting under the dataset threshold is still drift a learner must see, not "no drift"."""
    ds = s.dataset
    if ds is None or ds.drifted is None:
        return "muted", "-"
    if ds.drifted:
        return "drift", "DRIFT"
    features = sum(1 for f in s.features if f.drifted)
    if features:
        return "drift", f"{features} feature{'s' if features > 1 else ''} drifted (under the {ds.threshold:.0%} " \
                        "dataset threshold)"
    if s.prediction is not None and s.prediction.drifted:
        return "drift", "predictions drifted"
    return "ok", "no drift"


def _row(s: RunSummary) -> str:
    drifted = [f.name for f in s.features if f.drifted]
    ds = s.dataset
    css, words = verdict(s)
    share = f'<span class="{css}">{escape(words)}</span> {_num(ds.share if ds else None, "{:.2f}")}'
    pred = s.prediction
    pred_cell = _num(pred.score if pred else None) + (' <span class="drift">drift</span>'
                                                       if pred and pred.drifted else "")
    missing = [f"{f.name} {f.missing_share:.0%}" for f in s.features if f.missing_share]
    q = s.quality
    mae = "-" if q is None or q.mae_seconds is None else f"{q.mae_seconds / 60:.2f} min ({q.rows} rows)"
    links = " ".join(f'<a href="/reports/{escape(name)}">{kind}</a>'
                     for kind, name in (("HTML", s.html_file), ("JSON", s.json_file)) if name)
    cells = [_when(s.started_at), escape(s.model_version or "-"), str(s.window.rows), share,
             escape(", ".join(drifted)) or "-", pred_cell, escape(", ".join(missing)) or "-", mae, links]
    row_class = ' class="drifted"' if css == "drift" else ""
    return f"<tr{row_class}>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"


def render(entries: list[RunSummary], last: RunSummary | None) -> str:
    """The index page; ``last`` (the latest run, saved or not) is shown above the table."""
    status = ""
    if last is not None:
        status = (f"<p>Last run {_when(last.started_at)}: <b>{escape(last.outcome)}</b> "
                  f"{escape(last.headline() if last.outcome == 'success' else last.reason)}</p>")
    head = ["time", "model", "rows", "dataset drift (share)", "drifted features", "prediction drift",
            "missing", "MAE (feedback)", "report"]
    rows = "".join(_row(e) for e in entries) or (
        f'<tr><td colspan="{len(head)}" class="muted">no reports yet: a report is written when the window '
        "holds enough rows (send traffic: aiops-lab load run; or POST /run)</td></tr>")
    return (f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<link rel=\"icon\" href=\"data:,\"><title>Drift reports</title>"
            f"<style>{_STYLE}</style></head><body><h1>Drift reports</h1>{status}"
            f"{trend.section(entries)}"
            f"<p class=\"muted\">Newest first. <a href=\"/reports/index.json\">index.json</a> · "
            f"<a href=\"/metrics\">metrics</a></p><table><thead><tr>"
            + "".join(f"<th>{h}</th>" for h in head) + f"</tr></thead><tbody>{rows}</tbody></table></body></html>")
