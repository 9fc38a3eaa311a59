"""``aiops-lab monitoring render``: restore the running lab's Prometheus/Alertmanager config from the repo's
sources and reload both -- the supported undo of a hand edit or a bad config push (monitoring-blind-spot)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from aiops_core.errors import ExitStatus
from aiops_core.polling import wait_until
from aiops_core.prometheus import Prometheus
from tests.support.lab import Lab, running_lab
from tests.support.ports import free_port
from tests.support.speed import scaled


@pytest.fixture
def lab(tmp_path: Path, trained_registry: Path) -> Iterator[Lab]:
    """A whole private lab (``aiops-lab up -d`` on free ports), stopped afterwards."""
    with running_lab(tmp_path / "state", trained_registry) as lab:
        yield lab


def _push_scrape_target(config: Path, job: str, target: str) -> None:
    """What a bad config push does to the rendered file (the drill's fault, by hand)."""
    doc = yaml.safe_load(config.read_text())
    for scrape in doc["scrape_configs"]:
        if scrape["job_name"] == job:
            scrape["static_configs"] = [{"targets": [target]}]
    config.write_text(yaml.safe_dump(doc, sort_keys=False))


def _service_targets(lab: Lab) -> list[tuple[str, str]]:
    """(scrapeUrl, health) of every active target of job model-service."""
    return [(t["scrapeUrl"], t["health"]) for t in lab.prometheus_targets() if t["labels"]["job"] == "model-service"]


def _alertmanager_config(lab: Lab) -> str:
    """The configuration the running Alertmanager has loaded, as it reports it."""
    return str(httpx.get(lab.url("alertmanager") + "/api/v2/status", timeout=5).json()["config"]["original"])


@pytest.mark.integration
def test_render_restores_a_broken_scrape_target_and_the_service_is_scraped_again(lab: Lab) -> None:
    config = lab.state / "run" / "config"
    service = f"127.0.0.1:{lab.port('model-service')}"
    wrong = f"127.0.0.1:{free_port()}"
    _push_scrape_target(config / "prometheus.yml", "model-service", wrong)
    pager = lab.url("pager")
    (config / "alertmanager.yml").write_text((config / "alertmanager.yml").read_text().replace(pager, f"http://{wrong}"))
    for component in ("prometheus", "alertmanager"):
        assert httpx.post(lab.url(component) + "/-/reload", timeout=10).status_code == 200
    assert pager not in _alertmanager_config(lab)
    wait_until(lambda: _service_targets(lab) == [(f"http://{wrong}/metrics", "down")], timeout=scaled(30),
               interval=0.5, what="Prometheus scraping the wrong port and failing")

    result = lab.cli("monitoring", "render", timeout=60)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "prometheus.yml" in result.stdout and "changed" in result.stdout, result.stdout
    assert "prometheus reloaded" in result.stdout and "alertmanager reloaded" in result.stdout, result.stdout
    assert service in (config / "prometheus.yml").read_text() and wrong not in (config / "prometheus.yml").read_text()
    assert pager in _alertmanager_config(lab) and wrong not in _alertmanager_config(lab), "Alertmanager reloaded"
    prom = Prometheus(lab.url("prometheus"), timeout=5)
    wait_until(lambda: _service_targets(lab) == [(f"http://{service}/metrics", "up")], timeout=scaled(30),
               interval=0.5, what="the model service as the only model-service target, scraped")
    wait_until(lambda: prom.vector('up{job="model-service"}') == [
        ({"__name__": "up", "job": "model-service", "instance": service}, 1.0)], timeout=scaled(30), interval=0.5,
        what='up{job="model-service"} == 1 for the service, and no series of the wrong port left')


def test_render_without_a_running_lab_names_the_command_that_starts_it(tmp_path: Path) -> None:
    lab = Lab.create(tmp_path / "state")
    result = lab.run("monitoring", "render")
    assert result.exit_code == ExitStatus.NOT_RUNNING, result.output
    assert "the lab is not running" in result.text and "aiops-lab up" in result.text, result.output
    assert not (lab.state / "run" / "config").exists(), "nothing is rendered for a lab that does not run"


def test_render_help_says_what_it_overwrites_and_reloads(tmp_path: Path) -> None:
    lab = Lab.create(tmp_path / "state")
    listed = lab.run("--help")
    assert "monitoring" in listed.text
    result = lab.run("monitoring", "render", "--help")
    assert result.exit_code == 0, result.output
    for words in ("monitoring/prometheus", "/-/reload", "aiops-lab monitoring render"):
        assert words in result.text, result.output
