"""Write the effective Prometheus and Alertmanager configuration from the repository's source files.

The files under ``monitoring/prometheus`` and ``monitoring/alertmanager`` are production-like and are the
only hand-written copy. This renderer fills in where things run (host:port of each component, the pager's
address) and, in LAB MODE, compresses time so an incident drill plays out in minutes:

* scrape and evaluation intervals become ``LAB_INTERVAL`` (2 s);
* every rule window (``[1h]``), subquery step, ``offset``, ``for:`` and group ``interval:`` is divided by
  ``speedup`` (12: a 1h window becomes 5m, ``for: 2m`` becomes 10s);
* Alertmanager's group_wait / group_interval / repeat_interval / resolve_timeout are divided the same way;
* Prometheus's alert resend delay (a command-line flag: ``prometheus_command(lab_mode=True)``) too. It sets
  how long Alertmanager keeps an alert after Prometheus stops sending it (``endsAt`` = 4 x the delay ahead),
  so it bounds how fast the Watchdog's heartbeat stops when Prometheus hangs (monitoring/heartbeat.py).

Every webhook to the pager carries the lab's bearer token, read by Alertmanager from a file
(``pager_credentials_file``: the lab's ``admin-token``; the token itself is never written into a config).

Rule *names* keep their nominal window (``slo:burn_rate:ratio_rate1h``) so dashboards, runbooks and drills
use one vocabulary in both modes. The native launcher calls ``render`` with loopback addresses, the compose
variant with service DNS names; nothing here assumes either. ``aiops-lab monitoring render`` calls it again
for a running lab, to undo hand edits of the rendered copies (each file's header says so).
"""

from __future__ import annotations

import argparse
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml

from aiops_core import durations, paths, yaml_text
from aiops_core.atomic import atomic_write
from aiops_core.topology import LOOPBACK
from monitoring import binaries
from monitoring.binaries import READY_PATH, alertmanager_command, ready_url

__all__ = ["JOBS", "LAB_INTERVAL", "LAB_RESEND_DELAY", "LAB_SPEEDUP", "MODES", "READY_PATH", "Rendered",
           "alertmanager_command", "prometheus_command", "ready_url", "render"]

# The two ways the lab runs: "lab" shortens every interval and window by the speedup, "production" renders the
# shipped files as they are.
MODES = ("lab", "production")
SOURCE_DIR = Path(__file__).resolve().parent
PROMETHEUS_SOURCE = SOURCE_DIR / "prometheus" / "prometheus.yml"
RULES_SOURCE = SOURCE_DIR / "prometheus" / "rules"
ALERTMANAGER_SOURCE = SOURCE_DIR / "alertmanager" / "alertmanager.yml"

# Scrape-job names are the component names of aiops_core/topology.py; rules select on them.
JOBS = ("model-service", "drift-monitor", "pager", "traffic-feed", "alertmanager", "prometheus")
LAB_SPEEDUP = 12
LAB_INTERVAL = "2s"
# A rate() window needs several scrapes in it; never compress a window below four lab scrapes.
_MIN_WINDOW_MS = 4 * durations.parse_ms(LAB_INTERVAL)
_TARGET = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.\-_]*:(\d{1,5})$")
_RANGE = re.compile(rf"\[(?P<range>{durations.PROM_DURATION})(?::(?P<step>{durations.PROM_DURATION})?)?\]")
_OFFSET = re.compile(rf"\boffset\s+(?P<d>{durations.PROM_DURATION})\b")
_AM_TIMINGS = ("group_wait", "group_interval", "repeat_interval")
# Prometheus's default --rules.alert.resend-delay (1m), divided like every other duration in lab mode.
LAB_RESEND_DELAY = durations.scale("1m", LAB_SPEEDUP)


@dataclass(frozen=True)
class Rendered:
    """Where the effective files were written, and how they were produced."""

    out_dir: Path
    prometheus_yml: Path
    alertmanager_yml: Path
    rules_dir: Path
    lab_mode: bool
    speedup: int  # 1 outside lab mode


def render(out_dir: Path, *, targets: dict[str, str], pager_url: str, lab_mode: bool,
           speedup: int = LAB_SPEEDUP, pager_credentials_file: Path | str | None = None) -> Rendered:
    """Write ``prometheus.yml``, ``rules/*.yml`` and ``alertmanager.yml`` into ``out_dir``.

    ``targets`` maps job names (``JOBS``) to ``host:port``. A job without a target is left out (a partial
    lab, e.g. a test without a drift monitor); without an ``alertmanager`` target Prometheus sends no alerts.
    ``pager_url`` is the pager's base URL; each webhook keeps its own path (/alerts, /heartbeat).
    ``pager_credentials_file``: where Alertmanager reads the pager's bearer token (the lab's admin-token file,
    or a container path); None sends no credentials, for a receiver that checks none (a test's stand-in).
    """
    _check_targets(targets)
    _check_pager_url(pager_url)
    if speedup < 1:
        raise ValueError(f"speedup={speedup} must be 1 or more")
    factor = speedup if lab_mode else 1
    out_dir = Path(out_dir)
    rules_dir = out_dir / "rules"
    rules_dir.mkdir(parents=True, exist_ok=True)
    for stale in rules_dir.glob("*.yml"):
        stale.unlink()
    for source in sorted(RULES_SOURCE.glob("*.yml")):
        if lab_mode:
            doc = _lab_rules(yaml_text.load(source.read_text()), factor)
            _write_yaml(rules_dir / source.name, doc, source, factor)
        else:
            shutil.copyfile(source, rules_dir / source.name)

    prom = _prometheus_config(yaml_text.load(PROMETHEUS_SOURCE.read_text()), targets, lab_mode)
    prom_path = out_dir / "prometheus.yml"
    _write_yaml(prom_path, prom, PROMETHEUS_SOURCE, factor)

    am = _alertmanager_config(yaml_text.load(ALERTMANAGER_SOURCE.read_text()), pager_url, factor,
                              pager_credentials_file)
    am_path = out_dir / "alertmanager.yml"
    _write_yaml(am_path, am, ALERTMANAGER_SOURCE, factor)
    return Rendered(out_dir, prom_path, am_path, rules_dir, lab_mode, factor)


def _check_targets(targets: dict[str, str]) -> None:
    unknown = sorted(set(targets) - set(JOBS))
    if unknown:
        raise ValueError(f"unknown scrape target(s) {', '.join(unknown)}; known jobs: {', '.join(JOBS)}")
    for job, target in targets.items():
        match = _TARGET.match(target)
        if not match or not 1 <= int(match.group(1)) <= 65535:
            raise ValueError(f"target for {job} is {target!r}; expected host:port, e.g. 127.0.0.1:8000")


def _check_pager_url(url: str) -> None:
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ValueError(f"pager_url {url!r} is not an http(s) URL; expected e.g. http://127.0.0.1:8002")


def _prometheus_config(doc: dict[str, Any], targets: dict[str, str], lab_mode: bool) -> dict[str, Any]:
    if lab_mode:
        doc["global"].update(scrape_interval=LAB_INTERVAL, scrape_timeout=LAB_INTERVAL,
                             evaluation_interval=LAB_INTERVAL)
    jobs = []
    for job in doc["scrape_configs"]:
        name = job["job_name"]
        if name not in targets:
            continue
        job["static_configs"] = [{"targets": [targets[name]]}]
        if lab_mode:
            for key in ("scrape_interval", "scrape_timeout"):
                job.pop(key, None)  # the lab's global interval applies to every job
        jobs.append(job)
    doc["scrape_configs"] = jobs
    if "alertmanager" in targets:
        doc["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": [targets["alertmanager"]]}]}]}
    else:
        doc.pop("alerting", None)
    return doc


def _lab_rules(doc: dict[str, Any], factor: int) -> dict[str, Any]:
    for group in doc.get("groups", []):
        if "interval" in group:
            group["interval"] = durations.scale(group["interval"], factor, durations.parse_ms(LAB_INTERVAL))
        for rule in group.get("rules", []):
            rule["expr"] = scale_expr(str(rule["expr"]), factor)
            for key in ("for", "keep_firing_for"):
                if key in rule:
                    rule[key] = durations.scale(rule[key], factor)
    return doc


def scale_expr(expr: str, factor: int) -> str:
    """Divide every range, subquery step and offset in a PromQL expression by ``factor``.

    Label values that merely look like durations are safe: matchers are quoted strings, and a range
    selector is the only place a bare duration follows ``[``.
    """
    def _range(m: re.Match[str]) -> str:
        out = "[" + durations.scale(m.group("range"), factor, _MIN_WINDOW_MS)
        if ":" in m.group(0):
            step = m.group("step")
            out += ":" + (durations.scale(step, factor, durations.parse_ms(LAB_INTERVAL)) if step else "")
        return out + "]"

    expr = _RANGE.sub(_range, expr)
    return _OFFSET.sub(lambda m: "offset " + durations.scale(m.group("d"), factor), expr)


def _alertmanager_config(doc: dict[str, Any], pager_url: str, factor: int,
                         credentials_file: Path | str | None) -> dict[str, Any]:
    base = pager_url.rstrip("/")
    for receiver in doc.get("receivers", []):
        for hook in receiver.get("webhook_configs", []):
            hook["url"] = base + urlparse(hook["url"]).path
            # A copy per webhook: the source shares one block through a YAML alias.
            http_config = {k: v for k, v in (hook.pop("http_config", None) or {}).items() if k != "authorization"}
            if credentials_file is not None:
                http_config["authorization"] = {"type": "Bearer", "credentials_file": str(credentials_file)}
            if http_config:
                hook["http_config"] = http_config
    if factor > 1:
        glob = doc.setdefault("global", {})
        if "resolve_timeout" in glob:
            glob["resolve_timeout"] = durations.scale(glob["resolve_timeout"], factor, 1000)
        _scale_route(doc["route"], factor)
    return doc


def _scale_route(route: dict[str, Any], factor: int) -> None:
    for key in _AM_TIMINGS:
        if key in route:
            route[key] = durations.scale(route[key], factor, 0 if key == "group_wait" else 1000)
    for child in route.get("routes", []):
        _scale_route(child, factor)


def prometheus_command(config: Path, data_dir: Path, port: int, *, lab_mode: bool = False,
                       host: str = LOOPBACK, external_url: str | None = None) -> list[str]:
    """``binaries.prometheus_command``, plus the lab-mode resend delay (a flag: no config file can set it)."""
    command = binaries.prometheus_command(config, data_dir, port, host=host, external_url=external_url)
    if lab_mode:
        command.append(f"--rules.alert.resend-delay={LAB_RESEND_DELAY}")
    return command


class _BlockDumper(yaml.SafeDumper):
    """Multi-line PromQL stays readable as a ``|`` block instead of one escaped line."""


def _str_representer(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockDumper.add_representer(str, _str_representer)


def _write_yaml(path: Path, doc: dict[str, Any], source: Path, factor: int) -> None:
    mode = f"LAB MODE: durations divided by {factor}" if factor > 1 else "production timings"
    try:
        shown = source.relative_to(SOURCE_DIR.parent)
    except ValueError:
        shown = source
    # Editing this copy and reloading is a real incident fix (a bad config push: drill monitoring-blind-spot),
    # so the header says how to do it safely and how to undo it, instead of forbidding it.
    header = (f"# GENERATED by monitoring/render.py from {shown} ({mode}).\n"
              "# Lasting changes go in that source file. To fix an incident you may edit this copy, then apply it:\n"
              "#   curl -X POST <prometheus or alertmanager URL>/-/reload\n"
              "# Re-rendering from the source undoes such edits: aiops-lab monitoring render (native lab; it\n"
              "# reloads both), python -m monitoring.compose.generate (the compose lab's committed copies).\n")
    body = yaml.dump(doc, Dumper=_BlockDumper, sort_keys=False, width=120, allow_unicode=True)
    atomic_write(path, header + body)


def main(argv: list[str] | None = None) -> None:
    """``python -m monitoring.render OUT_DIR [--lab]``: render with the topology's default loopback ports."""
    from aiops_core.topology import BY_NAME, PAGER

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--lab", action="store_true", help="lab mode (compressed time)")
    args = parser.parse_args(argv)
    targets = {job: f"{LOOPBACK}:{BY_NAME[job].port()}" for job in JOBS}
    done = render(args.out_dir, targets=targets, pager_url=f"http://{LOOPBACK}:{PAGER.port()}", lab_mode=args.lab,
                  pager_credentials_file=paths.admin_token_path())
    print(f"wrote {done.prometheus_yml} and {done.alertmanager_yml}")


if __name__ == "__main__":
    main()
