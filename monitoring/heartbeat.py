"""How long the Watchdog heartbeat may stay silent before the lab pager pages about it.

Alertmanager re-sends the always-firing Watchdog every ``repeat_interval`` of its route
(``monitoring/alertmanager/alertmanager.yml``), so the timeout must be comfortably longer than that. The
pager enforces it (``AIOPS_PAGER_HEARTBEAT_TIMEOUT_S`` overrides it) and the incident dashboard draws it as
a threshold: one value for both, kept beside the alerting pipeline it describes.
"""

from __future__ import annotations

HEARTBEAT_TIMEOUT_S = 120.0
