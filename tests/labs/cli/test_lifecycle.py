"""``aiops-lab status``: the alert pipeline's verdict says whether a page would reach anyone *now*.

A learner's report (issue 12): with Alertmanager down, status said "Watchdog firing" -- true of Prometheus,
and read as "alerting works" while no page could be delivered. The verdict checks every link of
Prometheus -> Alertmanager -> pager, and the Watchdog heartbeat that made the whole trip. The whole-lab case
(Alertmanager killed under a running lab) is played by the lifecycle round trip (``tests/labs/stack``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from aiops_core.errors import ExitStatus
from aiops_core.runstate import ComponentRecord
from labs.cli.lifecycle import alert_pipeline

HEARD_5S_AGO = {"last_seen": 1_800_000_000.0, "age_seconds": 5.0, "healthy": True, "timeout_seconds": 120.0}
HEARD_10M_AGO = {"last_seen": 1_800_000_000.0, "age_seconds": 600.0, "healthy": False, "timeout_seconds": 120.0}
NEVER_HEARD = {"last_seen": None, "age_seconds": None, "healthy": False, "timeout_seconds": 120.0}


def lab(**states: str) -> dict[str, ComponentRecord]:
    """The run record's components as ``status`` sees them after its health checks (healthy unless told)."""
    out = {}
    for port, name in enumerate(("prometheus", "alertmanager", "pager"), start=9000):
        url = f"http://127.0.0.1:{port}"
        out[name] = ComponentRecord(name, port, url, url + "/-/ready", state=states.get(name, "healthy"))
    return out


def test_alertmanager_down_is_a_pipeline_down_even_while_the_watchdog_fires() -> None:
    # Alertmanager died a moment ago: Prometheus still fires the Watchdog, the pager heard it 5 s ago.
    verdict, findings = alert_pipeline(lab(alertmanager="down"), watchdog_firing=True, heartbeat=HEARD_5S_AGO)
    assert verdict == "down"
    assert findings == ["Alertmanager is unreachable: alerts firing in Prometheus are delivered to no one"]


@pytest.mark.parametrize(("states", "finding"), [
    ({"prometheus": "down"}, "Prometheus is unreachable: no alert rule is evaluated"),
    ({"pager": "exited"}, "the pager is exited: Alertmanager has nowhere to deliver pages"),
    ({"alertmanager": "skipped"}, "Alertmanager is not running (skipped): alerts firing in Prometheus are "
                                  "delivered to no one"),
])
def test_every_missing_link_is_named(states: dict[str, str], finding: str) -> None:
    verdict, findings = alert_pipeline(lab(**states), watchdog_firing=True, heartbeat=None)
    assert (verdict, findings) == ("down", [finding])


def test_a_heartbeat_that_stopped_arriving_is_down_though_every_process_runs() -> None:
    verdict, findings = alert_pipeline(lab(), watchdog_firing=True, heartbeat=HEARD_10M_AGO)
    assert verdict == "down"
    assert findings == ["Watchdog fires in Prometheus, but its heartbeat last reached the pager 10m 00s ago "
                        "(timeout 120s): Alertmanager is not delivering"]


@pytest.mark.parametrize(("watchdog", "heartbeat", "finding"), [
    (True, NEVER_HEARD, "no heartbeat has reached the pager yet"),  # a lab that just started
    (False, HEARD_5S_AGO, "Watchdog is not firing in Prometheus"),
    (True, None, "the pager did not say when the Watchdog last reached it"),
])
def test_nothing_broken_but_no_trip_completed_is_unconfirmed(watchdog: bool, heartbeat: dict[str, Any] | None,
                                                             finding: str) -> None:
    verdict, findings = alert_pipeline(lab(), watchdog_firing=watchdog, heartbeat=heartbeat)
    assert verdict == "unconfirmed" and len(findings) == 1 and finding in findings[0]


def test_ok_only_when_the_watchdog_reached_the_pager_in_time() -> None:
    verdict, findings = alert_pipeline(lab(), watchdog_firing=True, heartbeat=HEARD_5S_AGO)
    assert (verdict, findings) == ("ok", ["Watchdog fires in Prometheus and reached the pager through "
                                          "Alertmanager 5s ago"])


def test_token_prints_the_labs_token_from_its_state_dir_and_names_the_fix_without_one(tmp_path: Path) -> None:
    """Runbooks write ``$(aiops-lab token)``: it must read the state dir the lab really uses."""
    env = {**os.environ, "AIOPS_STATE_DIR": str(tmp_path)}
    env.pop("AIOPS_ADMIN_TOKEN", None)
    missing = subprocess.run([sys.executable, "-m", "labs.cli", "token"], env=env, capture_output=True, text=True,
                             timeout=60)
    assert missing.returncode == ExitStatus.NOT_RUNNING and "aiops-lab up" in missing.stderr, missing.stderr
    assert "Traceback" not in missing.stderr
    (tmp_path / "admin-token").write_text("s3cret-token\n")
    found = subprocess.run([sys.executable, "-m", "labs.cli", "token"], env=env, capture_output=True, text=True,
                           timeout=60)
    assert found.returncode == 0 and found.stdout == "s3cret-token\n", found.stderr
