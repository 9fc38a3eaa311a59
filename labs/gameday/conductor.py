"""The game's hands on the lab: start the drill when it is due, inject a second fault, end, read the SLIs.

Everything goes through the drill engine (``labs.drills.engine``: start, current, check, stop, report) so a
game day leaves the lab exactly as a solo drill does: ``engine.stop`` rolls back every fault, the second one
included. The drill starts *hidden* (as ``drill random`` does): the pager and ``aiops-lab drill status`` show
a wheel-of-misfortune incident, never the drill id, so the responders' own drill commands do not spoil it.

A second fault is injected into the running drill's journal with ``faults.inject`` -- the engine's own way
of injecting, which writes the rollback before it acts -- because the engine runs one drill at a time; the
second drill's traffic profile is not started (the first drill's traffic keeps flowing), and only the first
drill's checks decide ``drill check``.

The engine's events (injection, pages from the pager, checks, the responders' levers) are copied onto the
shared timeline by ``sync``, each once (keyed by run, kind and time); what an injection changed stays in the
entry's ``secret`` until the debrief.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import httpx

from aiops_core.errors import Conflict, LabError
from aiops_core.prometheus import PromError, Prometheus
from labs.drills import candidates, engine, faults, postmortem
from labs.drills import journal as jr
from labs.gameday.model import Entry, Game
from labs.gameday.store import GameStore

log = logging.getLogger("aiops.gameday")
ENGINE = "drill-engine"
# Live SLIs for the GM: recording rules of monitoring/prometheus/rules (slo-recording.yml, service-recording.yml).
SLI_QUERIES = {
    "SLI error ratio (5m)": "slo:sli_error:ratio_rate5m",
    "burn rate (5m)": "slo:burn_rate:ratio_rate5m",
    "/predict 5xx ratio (5m)": 'route:aiops_http_request_errors:ratio_rate5m{route="/predict"}',
    "/predict p99 latency s (5m)": 'route:aiops_http_request_duration_seconds:p99_rate5m{route="/predict"}',
}
SECRET_KINDS = {"injection": "fault injected (what it changed stays hidden until the debrief)"}


class Conductor:
    def __init__(self, store: GameStore, game: Game) -> None:
        self.store, self.game = store, game
        self._cancel = threading.Event()
        self._engine_lock = threading.Lock()  # one engine operation at a time: they all write the journal
        self._sync_lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def save(self) -> None:
        self.store.save_game(self.game)

    def engine_entry(self, kind: str, text: str, secret: str | None = None, at: float | None = None,
                     key: str | None = None) -> Entry:
        return self.store.append(Entry(at=time.time() if at is None else at, author=ENGINE, role="engine",
                                       kind=f"engine:{kind}", text=text, secret=secret, key=key))

    # --- the first fault --------------------------------------------------------------------------

    def schedule(self) -> None:
        """Start the drill at ``game.fault_at`` in a background thread (also after a server restart)."""
        g = self.game
        running = jr.load_current()
        if not g.run_ids and running is not None and running.hidden and running.started_at >= g.started_at:
            g.run_ids.append(running.run_id)  # the server died while the engine was starting it: adopt the run
            self.save()
        if g.run_ids or g.ended_at is not None or g.start_error:
            return
        self._thread = threading.Thread(target=self._start_when_due, name="gameday-fault", daemon=True)
        self._thread.start()

    def _start_when_due(self) -> None:
        if self._cancel.wait(max(0.0, self.game.fault_at - time.time())):
            return
        self.start_now()

    def start_now(self) -> None:
        with self._engine_lock:
            if self._cancel.is_set() or self.game.run_ids:
                return
            try:
                j, _ = engine.start(self.game.drill_id, hidden=self.game.hidden)
            except LabError as exc:
                self.game.start_error = exc.message
                self.save()
                self.engine_entry("error", "the incident could not start; the game master is told why",
                                  secret=exc.message)
                log.warning("drill start failed", extra={"error": exc.message})
                return
            self.game.run_ids.append(j.run_id)
            self.save()
        self.sync()

    # --- the second fault -------------------------------------------------------------------------

    def inject(self, drill_id: str) -> str:
        """Inject the faults of ``drill_id`` into the running drill; the detail of what changed."""
        drill = engine.drill_for(drill_id, deep=True)
        with self._engine_lock:
            running = jr.load_current()
            if running is None or running.run_id not in self.game.run_ids:
                when = time.strftime("%H:%M:%S", time.localtime(self.game.fault_at))
                raise Conflict(f"drill: no incident of this game is running yet (the first fault is due at {when}"
                               f"{'; it failed: ' + self.game.start_error if self.game.start_error else ''}); "
                               "inject a second fault once it runs")
            candidates.prepare([s for f in drill.faults for s in faults.candidate_specs(f)])
            details = [faults.inject(running, fault) for fault in drill.faults]
            self.game.injected.append(drill.id)
            self.save()
        self.sync()  # the journal's injection events, secret like the first one's
        return f"second fault from drill {drill.id}: " + "; ".join(details)

    # --- the engine's timeline --------------------------------------------------------------------

    def sync(self) -> int:
        """Copy the engine's new events (journal and pager pages) onto the timeline; how many were new."""
        added = 0
        with self._sync_lock:
            seen = self.store.keys()
            for run_id in self.game.run_ids:
                j = jr.load_run(run_id)
                if j is None:
                    continue
                try:
                    pages = engine.pages_for(j)
                except (LabError, httpx.HTTPError, OSError, ValueError):
                    pages = list(j.result.get("pages", []))
                for at, kind, detail in postmortem.timeline_rows(j, pages):
                    key = f"{run_id}:{kind}:{at:.3f}"
                    if key in seen:
                        continue
                    public = SECRET_KINDS.get(kind)
                    self.engine_entry(kind, public or detail, secret=detail if public else None, at=at, key=key)
                    seen.add(key)
                    added += 1
        return added

    # --- the GM's view ----------------------------------------------------------------------------

    def slis(self) -> dict[str, Any]:
        """The live SLIs by SLO/route label, or why there are none (Prometheus down is part of some incidents)."""
        prom = Prometheus(timeout=3.0)
        out: dict[str, Any] = {}
        try:
            for name, query in SLI_QUERIES.items():
                out[name] = {",".join(f"{k}={v}" for k, v in sorted(labels.items()) if k != "__name__") or "-": value
                             for labels, value in prom.vector(query)}
        except PromError as exc:
            return {"error": exc.message}
        return out

    def run_state(self) -> dict[str, Any]:
        j = jr.load_run(self.game.run_ids[-1]) if self.game.run_ids else None
        if j is None:
            return {"status": "failed to start" if self.game.start_error else "scheduled"}
        return {"status": j.status, "run_id": j.run_id, "injected_at": j.injected_at, "passed_at": j.passed_at,
                "hints_used": j.hints_used}

    # --- the end ----------------------------------------------------------------------------------

    def end(self) -> list[engine.Report]:
        """Cancel a fault not yet started; check once (a fix nobody confirmed still counts, from now), stop
        and roll back through the engine; the reports of every run, for the debrief."""
        self._cancel.set()
        with self._engine_lock:
            running = jr.load_current()
            if running is not None and running.run_id in self.game.run_ids:
                if running.passed_at is None:
                    try:
                        engine.check()
                    except (LabError, httpx.HTTPError, OSError) as exc:
                        log.warning("final check failed", extra={"error": str(exc)})
                engine.stop()
            reports = []
            for run_id in self.game.run_ids:
                try:
                    reports.append(engine.report(run_id))
                except LabError as exc:
                    log.warning("no drill report", extra={"run_id": run_id, "error": exc.message})
        self.sync()
        return reports
