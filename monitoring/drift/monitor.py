"""One monitoring run end to end, and the loop that repeats it: window -> Evidently -> report -> gauges.

A run never raises: a locked or missing log, a missing model or an Evidently error becomes a "failure"
outcome (counted, logged, reason kept for /healthz), and the next run simply tries again. Runs are
serialised with a lock, so a POST /run during a scheduled run waits for it instead of racing it.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from monitoring.drift import exporter
from monitoring.drift.config import DriftConfig, load
from monitoring.drift.reference import NoActiveModel, ReferenceStore
from monitoring.drift.reports import ReportStore, write_json
from monitoring.drift.settings import DriftSettings
from monitoring.drift.summary import RunSummary, WindowInfo
from monitoring.drift.window import LogUnavailable, read_window

log = logging.getLogger("aiops.drift")


class Monitor:
    def __init__(self, settings: DriftSettings, config: DriftConfig | None = None) -> None:
        self.settings = settings
        self.config = config or load(settings.config_path)
        self.references = ReferenceStore(settings.models_dir)
        self.reports = ReportStore(settings.reports_dir, settings.reports_keep)
        self.last: RunSummary | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        exporter.publish_config(self.config)

    # --- one run -------------------------------------------------------------------------------
    def run_once(self, window_s: float | None = None, window_rows: int | None = None, save: bool = True,
                 html_out: Path | None = None) -> RunSummary:
        """Evaluate the current window; returns the summary (outcome success / insufficient_data / failure)."""
        with self._lock:
            started, t0 = time.time(), time.perf_counter()
            run_id = f"{started:.3f}"
            try:
                summary = self._run(run_id, started, t0, window_s, window_rows, save, html_out)
            except (LogUnavailable, NoActiveModel) as exc:
                summary = RunSummary(run_id=run_id, started_at=started, outcome="failure", reason=str(exc))
            except Exception as exc:  # a run must never kill the monitor
                log.exception("drift run failed")
                summary = RunSummary(run_id=run_id, started_at=started, outcome="failure",
                                     reason=f"{type(exc).__name__}: {exc}")
            summary.duration_seconds = time.perf_counter() - t0
            exporter.publish(summary)
            self.last = summary
            (log.warning if summary.outcome == "failure" else log.info)(
                "drift run %s", summary.headline(), extra={"outcome": summary.outcome,
                                                           "duration_s": round(summary.duration_seconds, 3)})
            return summary

    def _run(self, run_id: str, started: float, t0: float, window_s: float | None, window_rows: int | None,
             save: bool, html_out: Path | None) -> RunSummary:
        s = self.settings
        version = self.references.active_version()
        reference = self.references.get(version)
        window = read_window(s.prediction_log, version, started, s.window_s if window_s is None else window_s,
                             s.window_rows if window_rows is None else window_rows)
        summary = RunSummary(
            run_id=run_id, started_at=started, outcome="success", model_version=version,
            reference_rows=len(reference.frame),
            window=WindowInfo(since=window.since_ts, until=window.until_ts, rows=window.rows,
                              other_versions=window.other_versions))
        if window.rows < s.min_rows:
            summary.outcome = "insufficient_data"
            summary.reason = f"{window.rows} rows served by {version} in the window; a verdict needs {s.min_rows}"
            if window.other_versions:
                others = ", ".join(f"{n} of {v}" for v, n in sorted(window.other_versions.items()))
                summary.reason += f" (rows of other versions are not compared: {others})"
            return summary

        from monitoring.drift.evaluate import evaluate  # imports Evidently on first use

        result = evaluate(window.frame, reference, self.config, s.min_rows, s.min_feedback_rows)
        summary = summary.model_copy(update={"dataset": result.dataset, "prediction": result.prediction,
                                             "features": result.features, "quality": result.quality})
        if html_out is not None:
            result.snapshot.save_html(str(html_out))
        if save:
            summary = self.reports.save_html(summary, result.snapshot)
            summary.duration_seconds = time.perf_counter() - t0
            write_json(self.reports.root / str(summary.json_file), summary, result.snapshot)
            self.reports.prune()
        return summary

    # --- the loop ------------------------------------------------------------------------------
    def start(self, first_run_delay_s: float = 0.0) -> None:
        """Run every ``interval_s`` in a background thread (the first run after ``first_run_delay_s``)."""
        self._thread = threading.Thread(target=self._loop, args=(first_run_delay_s,), name="drift-monitor",
                                        daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self, delay: float) -> None:
        if self._stop.wait(delay):
            return
        while not self._stop.is_set():
            self.run_once()
            self._stop.wait(self.settings.interval_s)
