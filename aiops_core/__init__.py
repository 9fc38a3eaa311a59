"""The lab's core layer: facts and helpers every other package shares, importing none of them.

The import graph, bottom to top (``tests/test_import_layers.py`` fails on an upward edge or a cycle):

    aiops_core                      topology, paths, run state, errors, durations, atomic writes, polling,
                                    the HTTP client base, the Prometheus client, charts, offline API docs
    model_service                   the FastAPI service, its registry, prediction log and metrics
    monitoring                      Prometheus/Alertmanager config rendering, binaries, the drift monitor
    grafana                         dashboard generation
    labs.pager, labs.traffic_feed,  the lab's own small services; dashboards drawn without Grafana
    labs.dashboards
    labs.stack, labs.runtime        the native launcher and the process/container runtimes
    labs.load, labs.drills, labs.curriculum
    labs.cli                        the only package that knows click

Why a top-level package rather than ``labs/core``: ``model_service`` and ``monitoring`` sit *below* ``labs``
and must not import it; a core inside ``labs`` would make every service depend on the lab tooling.
"""
