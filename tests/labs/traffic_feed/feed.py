"""The real traffic feed on a free loopback port, and a way to degrade it the way the drill engine does."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import httpx

from aiops_core import http as lab_http
from aiops_core.polling import wait_until
from labs.traffic_feed import control
from tests.support.processes import ProcessUnderTest, free_port, lab_env, start_http_process

PROBE = "/v1/traffic-index?distance_km=3.2&is_peak_hour=1"


@dataclass
class FeedUnderTest(ProcessUnderTest):
    @property
    def fault_file(self) -> Path:
        return control.fault_path(self.state_dir)

    def degrade(self, fault: control.FeedFault) -> None:
        """Write the fault file and wait until the feed applies it (it re-reads it within 0.25 s)."""
        control.write(fault, self.fault_file)
        if fault.mode == "down":
            wait_until(lambda: lab_http.get(self.url + PROBE, timeout=2.0).status_code == 503, timeout=10,
                       what="the feed to go down")
            return

        def slowed() -> bool:
            try:
                lab_http.get(self.url + PROBE, timeout=fault.delay_ms / 2000.0)
            except httpx.TimeoutException:
                return True
            return False

        wait_until(slowed, timeout=10, what="the feed to slow down")

    def heal(self) -> None:
        control.clear(self.fault_file)
        wait_until(lambda: lab_http.get(self.url + PROBE, timeout=0.5).status_code == 200, timeout=10,
                   what="the feed to recover")


def start_feed(state_dir: Path, **env: str) -> FeedUnderTest:
    port = free_port()
    proc = start_http_process("labs.traffic_feed", "traffic feed", state_dir,
                              lab_env(state_dir, AIOPS_TRAFFIC_FEED_PORT=str(port), **env), port)
    return FeedUnderTest(state_dir, port, proc)
