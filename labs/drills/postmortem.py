"""The postmortem draft: impact computed from the lab's metrics, the timeline, the root cause from the drill.

Impact comes from two sides. The *server side* is Prometheus (``increase()`` of the service's counters over
the incident window): failed and slow /predict requests, the share of the 30-day error budget burned, and
the minutes the SLIs were out of SLO; for a model-quality incident also the MAE and the predictions each
model version served (``labs.drills.quality_impact``). The *user side* is what the drill's clients saw,
which includes what the server never logged (refused connections while it was down, timeouts while it hung).
Above the numbers, a chart of the SLIs over the window with the timeline drawn on it (``sli_chart``); an
HTML page beside the Markdown embeds it (``report_html``).

The draft is written into the state dir, which may be anywhere (``AIOPS_STATE_DIR``), so its links to the
runbooks are computed from where it is written, not fixed ``../`` hops.
"""

from __future__ import annotations

import json
import os
import re
import string
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiops_core import paths
from aiops_core.prometheus import PromError, Prometheus
from labs.drills import catalogue, report_html, sli_chart
from labs.drills import journal as jr
from labs.drills.journal import Journal
from labs.drills.quality_impact import QualityImpact, is_quality_incident, quality_impact, quality_markdown
from labs.drills.schema import Drill
from labs.drills.scoring import Score, fmt_seconds, page_name

TEMPLATE = paths.REPO_ROOT / "runbooks" / "templates" / "postmortem.md"
SLO_PERIOD_S = 30 * 86400.0
SLI_STEP_S = 10.0
PREDICT = 'route="/predict"'
LATENCY_LE = "0.25"  # model_service.metrics.LATENCY_SLO_SECONDS, as Prometheus prints the bucket label


def window(j: Journal) -> tuple[float, float]:
    start = j.injected_at or j.started_at
    end = j.passed_at or j.stopped_at or time.time()
    return start, max(end, start + 1.0)


def _q(prom: Prometheus, query: str, at: float) -> float | None:
    try:
        return prom.value(query, at)
    except PromError:
        return None


def server_impact(prom: Prometheus, start: float, end: float) -> dict[str, Any]:
    """Counts over the window from Prometheus; None where Prometheus had no data."""
    w = f"{max(1, round(end - start))}s"
    out: dict[str, Any] = {
        "window_s": end - start,
        "requests": _q(prom, f"sum(increase(aiops_http_requests_total{{{PREDICT}}}[{w}]))", end),
        "server_errors": _q(prom, f'sum(increase(aiops_http_requests_total{{{PREDICT},status=~"5.."}}[{w}])) '
                                  "or vector(0)", end),
        "rejected": _q(prom, f'sum(increase(aiops_http_requests_total{{{PREDICT},status=~"4.."}}[{w}])) '
                             "or vector(0)", end),
        "slow": _q(prom, f"sum(increase(aiops_http_request_duration_seconds_count{{{PREDICT}}}[{w}])) - "
                         f'sum(increase(aiops_http_request_duration_seconds_bucket{{{PREDICT},le="{LATENCY_LE}"}}'
                         f"[{w}]))", end),
        "objectives": {},
    }
    try:
        for labels, value in prom.vector("slo:objective:ratio", end):
            out["objectives"][labels.get("slo", "?")] = value
    except PromError:
        pass
    out["minutes_out_of_slo"] = _minutes_out_of_slo(prom, start, end, out["objectives"])
    total = out["requests"]
    for slo, bad_key in (("availability", "server_errors"), ("latency", "slow")):
        objective, bad = out["objectives"].get(slo), out[bad_key]
        if objective is None or not total or bad is None or objective >= 1:
            continue
        allowed = (1 - objective) * (total / (end - start)) * SLO_PERIOD_S
        out[f"budget_{slo}_pct"] = 100.0 * bad / allowed
    return out


def _minutes_out_of_slo(prom: Prometheus, start: float, end: float, objectives: dict[str, float]) -> float | None:
    """Minutes in which either SLI broke its objective, the service was down, or there was no traffic data."""
    availability, latency = objectives.get("availability"), objectives.get("latency")
    if availability is None or latency is None:
        return None
    r = "[30s]"
    queries = {
        "errors": f'(sum(rate(aiops_http_requests_total{{{PREDICT},status=~"5.."}}{r})) or vector(0)) / '
                  f"sum(rate(aiops_http_requests_total{{{PREDICT}}}{r})) > bool {1 - availability:.6f}",
        "slow": f'1 - sum(rate(aiops_http_request_duration_seconds_bucket{{{PREDICT},le="{LATENCY_LE}"}}{r})) / '
                f"sum(rate(aiops_http_request_duration_seconds_count{{{PREDICT}}}{r})) > bool {1 - latency:.6f}",
        "down": 'min(up{job="model-service"}) == bool 0',
    }
    try:
        series = {name: {round(ts, 3): v for ts, v in prom.series(q, start, end, SLI_STEP_S)}
                  for name, q in queries.items()}
    except PromError:
        return None
    steps = [round(start + i * SLI_STEP_S, 3) for i in range(int((end - start) // SLI_STEP_S) + 1)]
    bad = sum(1 for ts in steps if ts not in series["errors"] or series["errors"][ts] > 0
              or series["slow"].get(ts, 0) > 0 or series["down"].get(ts, 0) > 0)
    return bad * SLI_STEP_S / 60.0


def client_impact(start: float, end: float) -> dict[str, int] | None:
    """What the drill's clients saw between start and end (from the traffic process' samples)."""
    path = jr.drills_dir() / "traffic-stats.json"
    try:
        samples = json.loads(path.read_text())["samples"]
    except (OSError, ValueError, KeyError):
        return None
    inside = [s for s in samples if start <= s["ts"] <= end + 2.5]
    before = [s for s in samples if s["ts"] < start]
    if not inside:
        return None
    first, last = (before[-1] if before else {}), inside[-1]
    delta = {k: int(last.get(k, 0)) - int(first.get(k, 0)) for k in last if k != "ts"}
    failed = sum(v for k, v in delta.items() if k.startswith("status_") and k != "status_200")
    failed += sum(delta.get(k, 0) for k in ("timeout", "connection_error", "client_shed", "bad_body"))
    return {"sent": delta.get("sent", 0), "ok": delta.get("ok", 0), "failed": failed,
            "timeouts": delta.get("timeout", 0), "refused": delta.get("connection_error", 0)}


def _num(value: float | None, unit: str = "") -> str:
    return "no data" if value is None else f"{value:,.0f}{unit}"


def impact_markdown(server: dict[str, Any], client: dict[str, int] | None,
                    quality: QualityImpact | None = None) -> str:
    lines = [f"Incident window: {fmt_seconds(server['window_s'])} (fault start -> mitigation).", "",
             "| signal | value |", "| --- | --- |",
             f"| /predict requests served (Prometheus) | {_num(server['requests'])} |",
             f"| failed with 5xx | {_num(server['server_errors'])} |",
             f"| rejected with 4xx (client errors) | {_num(server['rejected'])} |",
             f"| slower than 250 ms | {_num(server['slow'])} |"]
    for slo in ("availability", "latency"):
        pct = server.get(f"budget_{slo}_pct")
        objective = server["objectives"].get(slo)
        if pct is not None:
            lines.append(f"| {slo} error budget burned (of 30 days at {objective:.1%}, at this traffic rate) | "
                         f"{pct:.2f}% |")
    minutes = server.get("minutes_out_of_slo")
    lines.append(f"| minutes out of SLO (either SLI, or no data) | "
                 f"{'no data' if minutes is None else f'{minutes:.1f}'} |")
    if client is not None:
        lines += [f"| client requests sent during the window | {client['sent']:,} |",
                  f"| client requests that failed (error status, timeout, refused) | {client['failed']:,} |",
                  f"| of which timeouts / refused connections | {client['timeouts']:,} / {client['refused']:,} |"]
    if quality is not None:
        lines += ["", quality_markdown(quality)]
    return "\n".join(lines)


def _clock(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%H:%M:%S")


def timeline_rows(j: Journal, pages: list[dict[str, Any]]) -> list[tuple[float, str, str]]:
    """(time, kind, detail) for journal events and pager pages, oldest first."""
    rows = [(e.at, e.kind, e.detail) for e in j.events]
    for p in pages:
        name = page_name(p)  # two pages of one burn-rate alert differ by their windows
        rows.append((p["paged_at"], "page", f"{name} ({p.get('severity', '')}): {p.get('summary', '')}"))
        if p.get("acked_at") and p.get("acked_by") != "drill-ack":  # `drill ack` is on the timeline already
            rows.append((p["acked_at"], "ack", f"{name} acknowledged by {p.get('acked_by') or '?'}"))
        if p.get("resolved_at"):
            rows.append((p["resolved_at"], "resolved", f"{name} resolved"))
    return sorted(rows, key=lambda r: r[0])


def timeline_markdown(j: Journal, pages: list[dict[str, Any]]) -> str:
    origin = j.injected_at or j.started_at
    lines = ["| time | +offset | event | detail |", "| --- | --- | --- | --- |"]
    for at, kind, detail in timeline_rows(j, pages):
        sign = "-" if at < origin else "+"
        lines.append(f"| {_clock(at)} | {sign}{fmt_seconds(abs(at - origin))} | {kind} | "
                     f"{detail.replace('|', '/')} |")
    return "\n".join(lines)


def link(repo_path: str, from_dir: Path) -> str:
    """A Markdown link target for a file of the repository, from a document written in ``from_dir``: relative
    (the repo and the state dir move together in a copy), absolute when no relative path exists (another
    drive on Windows). Both ends are resolved, so a symlinked state dir does not turn ``..`` around."""
    target = (paths.REPO_ROOT / repo_path).resolve()
    try:
        return Path(os.path.relpath(target, from_dir.resolve())).as_posix()
    except ValueError:
        return target.as_posix()


def render(j: Journal, drill: Drill, score: Score, pages: list[dict[str, Any]], server: dict[str, Any],
           client: dict[str, int] | None, quality: QualityImpact | None = None,
           chart: sli_chart.SliChart | None = None) -> str:
    # A user drill's guide may sit beside its file (AIOPS_DRILLS_PATH): link it where it is.
    guide = drill.runbooks[0] if j.drill_file is None else str(catalogue.guide_path(drill, j.drill_file))
    detection = (f"Detected after {fmt_seconds(score.ttd_s)} by {score.detected_by}." if score.ttd_s is not None
                 else "Nothing detected it: no page reached the pager and nobody acknowledged.")
    expected = ", ".join(f"`{a}`" for a in drill.expected_alerts)
    values = {
        "title": drill.title, "run_id": j.run_id, "drill_id": drill.id,
        "date": datetime.fromtimestamp(j.started_at, UTC).strftime("%Y-%m-%d"),
        "status": "mitigated" if j.passed_at else "not mitigated",
        "severity": "page" if any(p.get("severity") == "page" for p in pages) else "ticket",
        "summary": f"{drill.briefing.strip()}\n\nMitigated after {fmt_seconds(score.ttm_s)}; "
                   f"{score.hints} hint(s) used; drill score {score.score}/100.",
        "impact": (chart.markdown() + "\n\n" if chart is not None else "") + impact_markdown(server, client, quality),
        "detection": f"{detection} Alerts this failure should raise: {expected}.",
        "timeline": timeline_markdown(j, pages),
        "root_cause": drill.debrief.root_cause.strip(),
        "resolution": drill.debrief.good_response.strip() + "\n\n```bash\n" + "\n".join(drill.debrief.mitigation)
                      + "\n```",
        "material": "\n".join(f"- [{p}]({link(p, report_dir(j.run_id))})" for p in [guide, *drill.runbooks[1:]])
                    + f"\n- drill guide: `{guide}`; journal: `{jr.runs_dir() / (j.run_id + '.json')}`",
    }
    return string.Template(TEMPLATE.read_text()).safe_substitute(values)


def report_dir(run_id: str) -> Path:
    return paths.reports_dir() / "drills" / run_id


def write(j: Journal, drill: Drill, score: Score, pages: list[dict[str, Any]], prom: Prometheus) -> Path:
    start, end = window(j)
    server = server_impact(prom, start, end)
    client = client_impact(start, end)
    quality = quality_impact(prom, start, end) if is_quality_incident(drill) else None
    out = report_dir(j.run_id)
    out.mkdir(parents=True, exist_ok=True)
    chart = sli_chart.write(j, pages, prom, start, end, out, quality=is_quality_incident(drill))
    path = out / "postmortem.md"
    path.write_text(render(j, drill, score, pages, server, client, quality, chart))
    report_html.write(path, f"Postmortem: {drill.title}")
    (out / "report.json").write_text(json.dumps({"run_id": j.run_id, "drill": drill.id, "score": score.as_dict(),
                                                 "server_impact": server, "client_impact": client,
                                                 "quality_impact": asdict(quality) if quality else None}, indent=2))
    return path


def write_run_report(j: Journal, drill: Drill, score: Score, pages: list[dict[str, Any]], prom: Prometheus,
                     hidden: bool = False) -> Path:
    """``drill report`` as files: ``report.md`` (score, SLI chart, timeline) and ``report.html`` beside it,
    rewritten on each call so a running drill's chart reaches the present. ``hidden``: a ``drill random``
    still running -- the drill's name and the injection's detail stay out of the files."""
    start, end = window(j)
    out = report_dir(j.run_id)
    out.mkdir(parents=True, exist_ok=True)
    chart = sli_chart.write(j, pages, prom, start, end, out, quality=False if hidden else is_quality_incident(drill),
                            hidden=hidden)
    title = "(hidden until the drill ends)" if hidden else f"{drill.id}: {drill.title}"
    timeline = timeline_markdown(j, pages)
    if hidden:
        timeline = re.sub(r"^(.*\| injection \|) .* \|$", r"\1 (hidden until the drill ends) |", timeline, flags=re.M)
    score_line = f"{score.score}/100" if j.passed_at else "- (not mitigated)"
    text = (f"# Drill report: {j.run_id}\n\n{title}, {j.status}\n\n"
            f"| time to detect | detected by | time to mitigate | hints | wrong actions | score |\n"
            f"| --- | --- | --- | --- | --- | --- |\n| {fmt_seconds(score.ttd_s)} | {score.detected_by or '-'} | "
            f"{fmt_seconds(score.ttm_s)} | {score.hints} | {len(score.wrong_actions)} | {score_line} |\n\n"
            f"## The SLIs over the incident\n\n{chart.markdown()}\n\n## Timeline\n\n"
            f"All times UTC; offsets from the moment the fault started.\n\n{timeline}\n")
    path = out / "report.md"
    path.write_text(text)
    return report_html.write(path, f"Drill report: {j.run_id}")
