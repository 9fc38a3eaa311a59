"""How long the Watchdog heartbeat may stay silent before the lab pager pages about it.

Alertmanager re-sends the always-firing Watchdog every ``repeat_interval`` of its route
(``monitoring/alertmanager/alertmanager.yml``), so the timeout must be comfortably longer than that. The
pager enforces it (``AIOPS_PAGER_HEARTBEAT_TIMEOUT_S`` overrides it) and the incident dashboard draws it as
a threshold: one value for both, kept beside the alerting pipeline it describes.

What a hung or dead Prometheus costs before the page, in each mode (measured on the lab, see
runbooks/WatchdogHeartbeatMissing.md): Prometheus stamps each alert it sends with ``endsAt`` = 4 x its resend
delay ahead, and Alertmanager keeps the Watchdog firing -- and heartbeating -- until then; the pager pages
one timeout after the last heartbeat.

* production: resend delay 1m -> Watchdog alive up to 4 min, + 120 s timeout: a page within ~6 min;
* lab mode: resend delay 5s (monitoring/render.py) -> up to 20 s, + 30 s timeout: a page within ~55 s.
  Heartbeats arrive every 5-10 s in lab mode (repeat_interval 5s, but Alertmanager re-sends only on a
  group_interval tick past it), so 30 s tolerates two lost ones.
"""

from __future__ import annotations

HEARTBEAT_TIMEOUT_S = 120.0
LAB_HEARTBEAT_TIMEOUT_S = 30.0


def heartbeat_timeout_s(lab_mode: bool) -> float:
    """The pager's default timeout in ``AIOPS_LAB_MODE=lab`` or in production-like timings."""
    return LAB_HEARTBEAT_TIMEOUT_S if lab_mode else HEARTBEAT_TIMEOUT_S
