"""The monitoring levers a learner can pull during a drill, read back for the timeline: edits of the rendered
monitoring config, Prometheus reloads (from any client: ``curl -X POST :9090/-/reload`` counts), and
Alertmanager silences.

None of these goes through the model service's histories, so without this module the real fix of
monitoring-blind-spot (edit ``prometheus.yml``, reload) and a silence hiding the drill's page would be
missing from the timeline. Every reader is polled when a drill command runs: two edits between two
commands show as one (the file as it is now); each distinct file version and each reload is one event.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import yaml

from aiops_core import yaml_text
from aiops_core.alertmanager import Alertmanager, matcher_text
from aiops_core.errors import LabError
from aiops_core.prometheus import Prometheus
from aiops_core.runstate import config_dir
from labs.drills.journal import Action, Journal

# A reload within this long after the process started is the start itself, already a "restart" event.
START_GRACE_S = 3.0


def prometheus_config_path() -> Path:
    return config_dir() / "prometheus.yml"


def _digest(path: Path) -> str:
    """The file's meaning, not its bytes: comments and layout aside (a re-render that only changes the
    generated header, or a pushed file's "# pushed by" line, is not an edit)."""
    raw = path.read_bytes()
    try:
        canonical = json.dumps(yaml_text.load(raw), sort_keys=True, default=str).encode()
    except yaml.YAMLError:
        canonical = raw  # a broken file is compared byte for byte
    return hashlib.sha256(canonical).hexdigest()[:16]


def _file_hashes() -> dict[str, str]:
    root = config_dir()
    if not root.is_dir():
        return {}
    return {str(p.relative_to(root)): _digest(p) for p in sorted(root.rglob("*.yml")) if p.is_file()}


def scrape_targets(text: str | None = None) -> dict[str, list[str]]:
    """job name -> static targets of the rendered (or given) Prometheus config; {} when unreadable."""
    try:
        config = yaml_text.load(text if text is not None else prometheus_config_path().read_text()) or {}
    except (OSError, yaml.YAMLError):
        return {}
    return {job.get("job_name", "?"): [t for s in job.get("static_configs", []) for t in s.get("targets", [])]
            for job in config.get("scrape_configs", []) or [] if isinstance(job, dict)}


def _active_silence_ids() -> list[str]:
    try:
        return [s["id"] for s in Alertmanager(timeout=5.0).active_silences()]
    except LabError:
        return []


def snapshot() -> dict[str, Any]:
    """The pre-drill state of the monitoring levers, kept in the journal's baseline."""
    return {"config_files": _file_hashes(), "scrape_targets": scrape_targets(),
            "prometheus_reload": Prometheus(timeout=5.0).last_reload(), "silences": _active_silence_ids()}


def mark_engine_change(j: Journal) -> None:
    """After the engine itself edited the config or reloaded: its versions and reload are not the learner's."""
    for name, digest in _file_hashes().items():
        j.engine_changes.append(f"file@{name}@{digest}")
    reloaded = Prometheus(timeout=5.0).last_reload()
    if reloaded is not None:
        j.engine_changes.append(f"prom-reload@{reloaded:.3f}")


def _target_diff(before: dict[str, list[str]], now: dict[str, list[str]]) -> str:
    changed = [f"{job}: {', '.join(before.get(job, [])) or '-'} -> {', '.join(now.get(job, [])) or '-'}"
               for job in sorted(set(before) | set(now)) if before.get(job) != now.get(job)]
    return ("scrape targets differ from before the drill: " + "; ".join(changed)) if changed \
        else "scrape targets as before the drill"


def _config_edits(j: Journal) -> list[Action]:
    """A file that differs from the latest version known not to be the learner's: the engine's last push of
    it, else the pre-drill one. Restoring the pre-drill file after the engine's push is an edit too."""
    known: dict[str, str] = dict(j.baseline.get("config_files", {}))
    for marker in j.engine_changes:  # in order: the engine's latest version of each file wins
        if marker.startswith("file@"):
            name, _, digest = marker[len("file@"):].rpartition("@")
            known[name] = digest
    out = []
    for name, digest in _file_hashes().items():
        if known.get(name) == digest:
            continue
        path = config_dir() / name
        detail = f"monitoring config edited: {name}"
        if name == "prometheus.yml":
            detail += f" ({_target_diff(j.baseline.get('scrape_targets', {}), scrape_targets())})"
        out.append(Action(f"file@{name}@{digest}", f"monitoring:edit:{name}", path.stat().st_mtime, detail,
                          {"target": f"file:{name}", "before": known.get(name), "after": digest}))
    return out


def _reloads(j: Journal, prometheus_started: float | None) -> list[Action]:
    reloaded = Prometheus(timeout=5.0).last_reload()
    if reloaded is None or reloaded <= j.started_at or f"prom-reload@{reloaded:.3f}" in j.engine_changes:
        return []
    if reloaded == j.baseline.get("prometheus_reload"):
        return []
    if prometheus_started is not None and abs(reloaded - prometheus_started) < START_GRACE_S:
        return []  # the restart loaded the config: on the timeline as a restart already
    return [Action(f"prom-reload@{reloaded:.3f}", "monitoring:reload:prometheus", reloaded,
                   "Prometheus reloaded its configuration (POST /-/reload)")]


def _silences(j: Journal) -> list[Action]:
    try:
        silences = Alertmanager(timeout=5.0).silences()
    except LabError:
        return []  # Alertmanager is down: its silences are read again on the next command
    before = set(j.baseline.get("silences", []))
    out = []
    for s in silences:
        if s["id"] in before or f"silence@{s['id']}" in j.engine_changes or s["updated_at"] < j.started_at:
            continue
        until = max(0.0, s["ends_at"] - s["starts_at"])
        who = s.get("createdBy") or "?"
        comment = f" ({s['comment']})" if s.get("comment") else ""
        out.append(Action(f"silence@{s['id']}", "silence:create", max(s["starts_at"], j.started_at),
                          f"silence {matcher_text(s['matchers'])} for {until / 60:.0f} min by {who}{comment}",
                          {"matchers": s["matchers"], "silence_id": s["id"]}))
    return out


def detect(j: Journal, prometheus_started: float | None) -> list[Action]:
    return [*_config_edits(j), *_reloads(j, prometheus_started), *_silences(j)]


def silences_created_since(j: Journal) -> list[str]:
    """Ids of the active silences created during the drill (the ones ``drill stop`` expires)."""
    before = set(j.baseline.get("silences", []))
    try:
        return [s["id"] for s in Alertmanager(timeout=5.0).active_silences()
                if s["id"] not in before and s["updated_at"] >= j.started_at]
    except LabError:
        return []
