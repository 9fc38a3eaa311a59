"""The pager's rules, on a real SQLite file: what is a page, what is a repeat, what resolves what."""

from __future__ import annotations

import zlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from labs.pager import heartbeat as hb
from labs.pager.heartbeat import HeartbeatMonitor
from labs.pager.metrics import all_metric_names, build_registry
from labs.pager.schemas import WebhookPayload
from labs.pager.store import PagerStore

T0 = 1_800_000_000.0  # a fixed "now" keeps every assertion exact
ZERO_TIME = "0001-01-01T00:00:00Z"  # what Alertmanager sends as endsAt of a firing alert


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


def alert(name: str, status: str = "firing", starts: float = T0, ends: float | None = None,
          fingerprint: str | None = None, severity: str = "page", **annotations: str) -> dict[str, Any]:
    """One alert as Alertmanager 0.25 puts it in a webhook notification."""
    return {
        "status": status,
        "labels": {"alertname": name, "severity": severity, "service": "model-service"},
        "annotations": {"summary": f"{name} summary", "runbook_url": f"runbooks/{name}.md", **annotations},
        "startsAt": iso(starts),
        "endsAt": iso(ends) if ends is not None else ZERO_TIME,
        "generatorURL": "http://127.0.0.1:9090/graph?g0.expr=up",
        "fingerprint": fingerprint or f"{zlib.crc32(name.encode()):016x}",
    }


def payload(*alerts: dict[str, Any], receiver: str = "pager") -> dict[str, Any]:
    """A complete version-4 webhook body around ``alerts`` (the group status is 'firing' if any fires)."""
    status = "firing" if any(a["status"] == "firing" for a in alerts) else "resolved"
    common = {"alertname": alerts[0]["labels"]["alertname"]} if alerts else {}
    return {"version": "4", "status": status, "receiver": receiver, "groupKey": "{}:{alertname=\"x\"}",
            "truncatedAlerts": 0, "groupLabels": common, "commonLabels": common, "commonAnnotations": {},
            "externalURL": "http://127.0.0.1:9093", "alerts": list(alerts)}


@pytest.fixture
def store(tmp_path: Path) -> PagerStore:
    s = PagerStore(tmp_path / "pager.db")
    yield s
    s.close()


def send(store: PagerStore, *alerts: dict[str, Any], at: float = T0 + 5) -> list[str]:
    return store.record(WebhookPayload.model_validate(payload(*alerts)), at)


def test_first_firing_pages_and_repeats_do_not(store: PagerStore) -> None:
    assert send(store, alert("HighErrorRate")) == ["paged"]
    assert send(store, alert("HighErrorRate"), at=T0 + 65) == ["repeat"]
    assert send(store, alert("HighErrorRate"), at=T0 + 125) == ["repeat"]
    [page] = store.pages()
    assert (page["alertname"], page["status"], page["notifications"]) == ("HighErrorRate", "firing", 3)
    assert page["paged_at"] == T0 + 5 and page["starts_at"] == T0
    assert [e["kind"] for e in page["timeline"]] == ["paged", "repeat", "repeat"]
    assert [a["alertname"] for a in store.active_alerts()] == ["HighErrorRate"]


def test_resolved_closes_the_page_at_the_alerts_own_end_time(store: PagerStore) -> None:
    send(store, alert("HighErrorRate"))
    assert send(store, alert("HighErrorRate", "resolved", ends=T0 + 90), at=T0 + 95) == ["resolved"]
    [page] = store.pages()
    assert page["status"] == "resolved" and page["resolved_at"] == T0 + 90
    assert store.active_alerts() == []


def test_a_new_episode_of_the_same_alert_is_a_new_page(store: PagerStore) -> None:
    send(store, alert("HighErrorRate"))
    send(store, alert("HighErrorRate", "resolved", ends=T0 + 90), at=T0 + 95)
    assert send(store, alert("HighErrorRate", starts=T0 + 300), at=T0 + 305) == ["paged"]
    newest, oldest = store.pages()
    assert (newest["status"], oldest["status"]) == ("firing", "resolved")
    assert newest["id"] > oldest["id"]


def test_each_alert_uses_its_own_status_not_the_groups(store: PagerStore) -> None:
    send(store, alert("A"), alert("B"))
    # The group is "firing" because A still fires, but B's own status says it resolved.
    assert send(store, alert("A"), alert("B", "resolved", ends=T0 + 60), at=T0 + 65) == ["repeat", "resolved"]
    assert {p["alertname"]: p["status"] for p in store.pages()} == {"A": "firing", "B": "resolved"}


def test_a_late_retry_does_not_reopen_a_resolved_page(store: PagerStore) -> None:
    send(store, alert("A"))
    send(store, alert("A", "resolved", ends=T0 + 60), at=T0 + 65)
    assert send(store, alert("A"), at=T0 + 70) == ["stale"]
    assert send(store, alert("A", "resolved", ends=T0 + 60), at=T0 + 71) == ["duplicate"]
    assert [p["status"] for p in store.pages()] == ["resolved"]
    assert store.active_alerts() == []
    assert [e["effect"] for e in store.events()] == ["paged", "resolved", "stale", "duplicate"]


def test_a_newer_episode_supersedes_one_whose_resolution_never_came(store: PagerStore) -> None:
    send(store, alert("A"))
    assert send(store, alert("A", starts=T0 + 600), at=T0 + 605) == ["paged"]
    newest, oldest = store.pages()
    assert oldest["status"] == "resolved" and oldest["resolved_at"] == T0 + 600
    assert newest["status"] == "firing"
    # A notification about the older episode changes nothing now.
    assert send(store, alert("A", "resolved", ends=T0 + 100), at=T0 + 610) == ["stale"]
    assert store.pages()[0]["status"] == "firing"


def test_resolved_without_a_firing_is_logged_but_does_not_page(store: PagerStore) -> None:
    assert send(store, alert("A", "resolved", ends=T0 + 60)) == ["resolved-unpaged"]
    assert store.pages() == []
    assert len(store.events()) == 1


def test_ack_by_alertname_records_the_first_ack_only(store: PagerStore) -> None:
    send(store, alert("A"), alert("B"))
    [page] = store.ack("A", "learner", T0 + 45)
    assert page["newly_acked"] and page["acked_at"] == T0 + 45 and page["acked_by"] == "learner"
    [again] = store.ack("A", "learner", T0 + 99)
    assert not again["newly_acked"] and again["acked_at"] == T0 + 45
    assert store.pages(alertname="B")[0]["acked_at"] is None
    assert [e["kind"] for e in store.pages(alertname="A")[0]["timeline"]] == ["paged", "ack"]


def test_ack_by_fingerprint_and_of_a_resolved_page(store: PagerStore) -> None:
    send(store, alert("A", fingerprint="aaaa000000000001"))
    send(store, alert("A", "resolved", fingerprint="aaaa000000000001", ends=T0 + 30), at=T0 + 31)
    [page] = store.ack("aaaa000000000001", "cli", T0 + 40)
    assert page["status"] == "resolved" and page["acked_at"] == T0 + 40
    assert store.ack("NoSuchAlert", "cli", T0 + 41) == []


def test_page_filters(store: PagerStore) -> None:
    send(store, alert("A"), at=T0)
    send(store, alert("B"), at=T0 + 100)
    send(store, alert("B", "resolved", ends=T0 + 150), at=T0 + 150)
    assert [p["alertname"] for p in store.pages(since=T0 + 50)] == ["B"]
    assert [p["alertname"] for p in store.pages(status="firing")] == ["A"]
    assert [p["alertname"] for p in store.pages(status="resolved")] == ["B"]
    assert [p["alertname"] for p in store.pages(alertname="A")] == ["A"]
    assert [e["alertname"] for e in store.events(since=T0 + 50)] == ["B", "B"]


def test_everything_survives_reopening_the_database(tmp_path: Path) -> None:
    first = PagerStore(tmp_path / "pager.db")
    first.record(WebhookPayload.model_validate(payload(alert("A"))), T0)
    first.close()
    second = PagerStore(tmp_path / "pager.db")
    assert second.record(WebhookPayload.model_validate(payload(alert("A"))), T0 + 60) == ["repeat"]
    assert len(second.pages()) == 1
    second.close()


def test_heartbeat_switch_arms_on_first_beat_and_pages_once(store: PagerStore) -> None:
    monitor = HeartbeatMonitor(store, timeout_s=60, now=T0)
    assert monitor.check(T0 + 1000) is None, "never armed: a pager without Alertmanager is not an outage"
    monitor.beat(T0 + 1000)
    assert monitor.status(T0 + 1030) == {"last_seen": T0 + 1000, "age_seconds": 30, "timeout_seconds": 60,
                                         "healthy": True}
    assert monitor.check(T0 + 1060) is None
    page_id = monitor.check(T0 + 1061)
    assert page_id is not None
    assert monitor.check(T0 + 1100) is None, "one page per outage"
    [page] = store.pages()
    assert (page["alertname"], page["severity"], page["source"]) == (hb.ALERTNAME, "page", "pager")
    assert page["starts_at"] == T0 + 1060 and page["status"] == "firing"
    assert not monitor.status(T0 + 1100)["healthy"]
    monitor.beat(T0 + 1200)
    assert store.pages()[0]["status"] == "resolved"


def test_heartbeat_after_restart_gets_a_grace_period(tmp_path: Path) -> None:
    s = PagerStore(tmp_path / "pager.db")
    HeartbeatMonitor(s, timeout_s=60, now=T0).beat(T0)
    restarted = HeartbeatMonitor(s, timeout_s=60, now=T0 + 3600)  # the lab was down for an hour
    assert restarted.last_seen == T0
    assert restarted.check(T0 + 3630) is None
    assert restarted.check(T0 + 3661) is not None
    s.close()


def _samples(store: PagerStore, monitor: HeartbeatMonitor) -> dict[tuple[str, tuple], float]:
    text = generate_latest(build_registry(store, monitor)).decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for fam in text_string_to_metric_families(text) for s in fam.samples}


def test_metrics_follow_the_database(store: PagerStore) -> None:
    monitor = HeartbeatMonitor(store, timeout_s=60)
    send(store, alert("A", severity="page"), alert("B", severity="ticket"), alert("C", severity="made-up"))
    send(store, alert("A", severity="page"))
    send(store, alert("B", "resolved", severity="ticket", ends=T0 + 60))
    store.set_drill("latency-spike", T0)
    got = _samples(store, monitor)
    assert got[("aiops_pager_notifications_total", (("status", "firing"),))] == 4
    assert got[("aiops_pager_notifications_total", (("status", "resolved"),))] == 1
    assert got[("aiops_pager_pages_total", (("severity", "page"),))] == 1
    assert got[("aiops_pager_pages_total", (("severity", "ticket"),))] == 1
    assert got[("aiops_pager_pages_total", (("severity", "other"),))] == 1
    assert got[("aiops_pager_active_alerts", ())] == 2
    assert got[("aiops_pager_drill_info", (("drill", "latency-spike"),))] == 1
    assert ("aiops_pager_heartbeat_age_seconds", ()) not in got
    monitor.beat()
    store.set_drill(None, T0 + 60)
    got = _samples(store, monitor)
    assert got[("aiops_pager_heartbeat_age_seconds", ())] < 5
    assert not any(name == "aiops_pager_drill_info" for name, _ in got)
    assert {name for name, _ in got} <= all_metric_names()


@pytest.mark.parametrize(("mutate", "field"), [
    (lambda p: p.update(version="3"), "version"),
    (lambda p: p["alerts"][0].update(status="pending"), "alerts.0.status"),
    (lambda p: p["alerts"][0]["labels"].pop("alertname"), "alerts.0.labels"),
    (lambda p: p["alerts"][0].pop("fingerprint"), "alerts.0.fingerprint"),
    (lambda p: p["alerts"][0].update(startsAt="yesterday"), "alerts.0.startsAt"),
    (lambda p: p.update(alerts=[]), "alerts"),
])
def test_payload_validation_names_the_field(mutate: Any, field: str) -> None:
    from pydantic import ValidationError

    body = payload(alert("A"))
    mutate(body)
    with pytest.raises(ValidationError) as err:
        WebhookPayload.model_validate(body)
    assert ".".join(str(p) for p in err.value.errors()[0]["loc"]) == field
