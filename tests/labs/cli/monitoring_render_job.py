"""``aiops-lab monitoring render`` restores a broken scrape target on a running lab: a job of the drill pool.

It needs a whole lab (Prometheus, Alertmanager, the service, the pager) and mostly waits for Prometheus to
scrape, so it plays on one of the pool's labs instead of starting a lab of its own in the foreground
(measured: 25 s quiet, 57 s beside the pool's start-up). ``test_monitoring_cli.py`` reports its outcome. The
job ends with the lab as it found it: restoring the configs is what it tests.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from aiops_core import http as lab_http
from aiops_core import yaml_text
from aiops_core.polling import wait_until
from aiops_core.prometheus import Prometheus
from tests.labs.drills.lab import Lab
from tests.labs.drills.pool import Job
from tests.support.ports import free_port
from tests.support.speed import scaled


def _push_scrape_target(config: Path, job: str, target: str) -> None:
    """What a bad config push does to the rendered file (the drill's fault, by hand)."""
    doc = yaml_text.load(config.read_text())
    for scrape in doc["scrape_configs"]:
        if scrape["job_name"] == job:
            scrape["static_configs"] = [{"targets": [target]}]
    config.write_text(yaml.safe_dump(doc, sort_keys=False))


def _service_targets(lab: Lab) -> list[tuple[str, str]]:
    """(scrapeUrl, health) of every active target of job model-service."""
    return [(t["scrapeUrl"], t["health"]) for t in lab.prometheus_targets() if t["labels"]["job"] == "model-service"]


def _alertmanager_config(lab: Lab) -> str:
    """The configuration the running Alertmanager has loaded, as it reports it."""
    return str(lab_http.get(lab.url("alertmanager") + "/api/v2/status", timeout=5).json()["config"]["original"])


def render_restores_a_broken_scrape_target(lab: Lab) -> str:
    config = lab.state / "run" / "config"
    service = f"127.0.0.1:{lab.port('model-service')}"
    wrong = f"127.0.0.1:{free_port()}"
    _push_scrape_target(config / "prometheus.yml", "model-service", wrong)
    pager = lab.url("pager")
    (config / "alertmanager.yml").write_text((config / "alertmanager.yml").read_text().replace(pager, f"http://{wrong}"))
    for component in ("prometheus", "alertmanager"):
        assert lab_http.post(lab.url(component) + "/-/reload", timeout=10).status_code == 200
    assert pager not in _alertmanager_config(lab)
    wait_until(lambda: _service_targets(lab) == [(f"http://{wrong}/metrics", "down")], timeout=scaled(30),
               interval=0.5, what="Prometheus scraping the wrong port and failing")

    result = lab.cli("monitoring", "render", timeout=60)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "prometheus.yml" in result.stdout and "changed" in result.stdout, result.stdout
    assert "prometheus reloaded" in result.stdout and "alertmanager reloaded" in result.stdout, result.stdout
    assert service in (config / "prometheus.yml").read_text() and wrong not in (config / "prometheus.yml").read_text()
    assert pager in _alertmanager_config(lab) and wrong not in _alertmanager_config(lab), "Alertmanager reloaded"
    assert (config / "prometheus.yml").read_text() == lab.baseline_prometheus_yml, "rendered exactly as at start"
    prom = Prometheus(lab.url("prometheus"), timeout=5)
    wait_until(lambda: _service_targets(lab) == [(f"http://{service}/metrics", "up")], timeout=scaled(30),
               interval=0.5, what="the model service as the only model-service target, scraped")
    wait_until(lambda: prom.vector('up{job="model-service"}') == [
        ({"__name__": "up", "job": "model-service", "instance": service}, 1.0)], timeout=scaled(30), interval=0.5,
        what='up{job="model-service"} == 1 for the service, and no series of the wrong port left')
    return "restored and scraped again"


JOBS = [Job("monitoring render restores a broken scrape target", render_restores_a_broken_scrape_target,
            cost_s=20)]
