"""``aiops-lab pager list`` in an 80-column terminal, against the real pager fed Alertmanager payloads.

A learner's report (issue 12): at 80 columns the alert name and the runbook were cut to "ModelServic…", and
the two burn-rate pages of one SLO alert (a fast and a slow window pair) looked identical.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.labs.pager.test_pager_api import PagerUnderTest, running_pager
from tests.labs.pager.test_pager_logic import T0, alert, payload
from tests.support.lab import Lab

pytestmark = pytest.mark.integration

BURN = "ModelServiceErrorBudgetBurn"
LONGEST = "ModelServicePredictionLogWriteErrors"  # the longest alert name in monitoring/prometheus/rules


def _burn_rate_alert(long_window: str, short_window: str) -> dict[str, Any]:
    """One of the SLO alert's window pairs, labelled as slo-alerts.yml labels it."""
    page = alert(BURN, starts=T0, fingerprint=f"{zlib.crc32(long_window.encode()):016x}",
                 summary="/predict returns too many server errors for its availability SLO.")
    page["labels"] = {"alertname": BURN, "severity": "page", "slo": "availability",
                      "long_window": long_window, "short_window": short_window}
    return page


@pytest.fixture
def pager(tmp_path: Path) -> Iterator[PagerUnderTest]:
    with running_pager(tmp_path / "pager-state") as p:
        yield p


def test_pages_are_readable_at_80_columns_and_window_pairs_are_told_apart(pager: PagerUnderTest,
                                                                         tmp_path: Path) -> None:
    target = alert(LONGEST, severity="ticket")
    target["labels"].update(job="model-service", instance="127.0.0.1:8000")
    sent = pager.post("/alerts", payload(_burn_rate_alert("1h", "5m"), _burn_rate_alert("6h", "30m"), target))
    assert sent.status_code == 200, sent.text
    lab = Lab.create(tmp_path / "cli-state", AIOPS_PAGER_URL=pager.url, COLUMNS="80")

    done = lab.cli("pager", "list", "--since", "100000d", timeout=60)

    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80, done.stdout
    assert "…" not in done.stdout, done.stdout
    rows = [line for line in lines if line.startswith("│")]
    assert sum(BURN in row for row in rows) == 2 and sum(LONGEST in row for row in rows) == 1, done.stdout
    # The labels that tell the burn-rate pages apart are shown with them; the scrape target's are not.
    assert "long_window=1h short_window=5m" in done.stdout and "long_window=6h short_window=30m" in done.stdout
    assert "instance=" not in done.stdout and "job=" not in done.stdout
    # Each alert's summary and runbook, whole, once.
    assert done.stdout.count(f"runbook: runbooks/{BURN}.md") == 1, done.stdout
    assert f"runbook: runbooks/{LONGEST}.md" in done.stdout
    assert f"{BURN}: /predict returns too many server errors" in done.stdout
