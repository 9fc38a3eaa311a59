"""Which page of each component a person should open, checked against the binaries actually running.

A link that 404s is worse than none. Debian's ``prometheus`` 2.42 ships without the React UI (``/alerts``
and ``/targets`` are 404; ``/classic/alerts``, ``/classic/graph`` and ``/classic/targets`` work), and Debian's
``prometheus-alertmanager`` serves no web UI at all (a placeholder page that says to use ``amtool``); the
upstream tarballs and the compose images have both. So the links are probed, not assumed: ``aiops-lab up``
prints them, ``aiops-lab status`` shows them (``--json``: ``links``), and the README's table says the same.

Probes are one short GET each, on loopback, and only for Prometheus and Alertmanager; a component that does
not answer gets its default links (it is reported as down anyway).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import httpx

from aiops_core import http as lab_http
from aiops_core.runstate import ComponentRecord
from aiops_core.topology import (
    ALERTMANAGER,
    DRIFT_MONITOR,
    GRAFANA,
    LOCUST,
    MODEL_SERVICE,
    PAGER,
    PROMETHEUS,
    TRAFFIC_FEED,
)

PROBE_TIMEOUT_S = 2.0
# The pages each UI flavour has, in the order a learner needs them.
PROMETHEUS_REACT = (("alerts", "/alerts"), ("graph", "/graph"), ("targets", "/targets"))
PROMETHEUS_CLASSIC = (("alerts", "/classic/alerts"), ("graph", "/classic/graph"), ("targets", "/classic/targets"))
ALERTMANAGER_UI = (("alerts", "/#/alerts"), ("silences", "/#/silences"))
STATIC: dict[str, tuple[tuple[str, str], ...]] = {
    MODEL_SERVICE.name: (("API docs", "/docs"),),
    DRIFT_MONITOR.name: (("Evidently reports", "/reports"), ("API docs", "/docs")),
    PAGER.name: (("inbox", "/"), ("API docs", "/docs")),
    TRAFFIC_FEED.name: (("API docs", "/docs"),),
    GRAFANA.name: (("dashboards", "/"),),
    LOCUST.name: (("load UI", "/"),),
}


@dataclass(frozen=True)
class Link:
    """Something to open (``url``) or, where there is no page, something to type (``command``)."""

    component: str
    what: str
    url: str = ""
    command: str = ""

    def text(self) -> str:
        return self.url or self.command


def _answers(url: str) -> bool:
    try:
        return lab_http.get(url, timeout=PROBE_TIMEOUT_S).status_code == 200
    except httpx.HTTPError:
        return False


def prometheus_pages(base: str) -> tuple[tuple[str, str], ...]:
    """React UI if ``/alerts`` answers, else the classic UI Debian's package has."""
    return PROMETHEUS_REACT if _answers(base + "/alerts") else PROMETHEUS_CLASSIC


def alertmanager_has_ui(base: str) -> bool:
    """Upstream Alertmanager's UI is an Elm app loaded from ``/script.js``; Debian's placeholder has none."""
    return _answers(base + "/script.js")


def links(components: dict[str, ComponentRecord]) -> list[Link]:
    """The links of every running component, probed where the flavour matters."""
    out: list[Link] = []
    pager = components.get(PAGER.name)
    for rec in components.values():
        if rec.state in ("skipped", "stopped"):
            continue
        if rec.name == PROMETHEUS.name:
            pages = prometheus_pages(rec.url)
        elif rec.name == ALERTMANAGER.name:
            if alertmanager_has_ui(rec.url):
                pages = ALERTMANAGER_UI
            else:
                out.append(Link(rec.name, "alerts (no web UI in this package)",
                                command=f"amtool --alertmanager.url={rec.url} alert query"))
                out.append(Link(rec.name, "silences", command=f"amtool --alertmanager.url={rec.url} silence query"))
                if pager is not None and pager.state not in ("skipped", "stopped"):
                    out.append(Link(rec.name, "what it delivered", url=pager.url + "/"))
                continue
        else:
            pages = STATIC.get(rec.name, (("home", "/"),))
        out.extend(Link(rec.name, what, url=rec.url + path) for what, path in pages)
    return out


def primary(components: dict[str, ComponentRecord], found: list[Link]) -> dict[str, str]:
    """Component name -> the first thing to open or type (the status table's link column)."""
    first: dict[str, str] = {}
    for link in found:
        first.setdefault(link.component, link.text())
    return {name: first.get(name, rec.url) for name, rec in components.items()}


def as_json(found: list[Link]) -> list[dict[str, str]]:
    return [asdict(link) for link in found]
