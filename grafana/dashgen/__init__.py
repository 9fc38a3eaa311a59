"""Generator of the lab's Grafana dashboards (run ``python grafana/build_dashboards.py``)."""
