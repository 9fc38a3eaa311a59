"""Grafana dashboards without Grafana: read ``grafana/dashboards/*.json``, run each panel's PromQL against the
lab's Prometheus and draw the panels into one self-contained HTML page (``aiops-lab dashboard render``)."""
