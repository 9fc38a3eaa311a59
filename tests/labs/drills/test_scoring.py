"""Each scoring rule of runbooks/drills/README.md ("Scoring"), on journals built as the engine builds them.

The timeline's learner events carry what the engine reads from the lab's histories (``action``, ``target``,
``before``/``after``, ``matchers``); these tests feed those to the scorer and compare with the rule."""

from __future__ import annotations

from typing import Any

from labs.drills import catalogue, scoring
from labs.drills import journal as jr

T0 = 1000.0  # injection time


def _journal(drill_id: str, passed_after: float | None = 200.0) -> jr.Journal:
    j = jr.Journal(run_id=f"{drill_id}-x", drill_id=drill_id, started_at=T0 - 30, injected_at=T0)
    j.add("injection", "fault", at=T0)
    j.passed_at = None if passed_after is None else T0 + passed_after
    return j


def _page(name: str, after: float, **labels: str) -> dict[str, Any]:
    return {"alertname": name, "paged_at": T0 + after, "severity": labels.pop("severity", "page"),
            "labels": {"alertname": name, **labels}}


def _config(j: jr.Journal, at: float, flag: str, old: object, new: object) -> None:
    j.add("learner", f"config set {flag} {old!r} -> {new!r} by cli", at=T0 + at, key=f"config@{at}",
          action=f"config:{flag}", target=f"config:{flag}", before=old, after=new)


def test_ttd_counts_from_the_first_page_of_any_alert_not_the_expected_one() -> None:
    """Paged by ModelServiceSaturated at +49 s; the expected burn-rate page came at +122 s: TTD is 49 s."""
    drill = catalogue.get("dependency-slow")
    assert "ModelServiceSaturated" not in drill.expected_alerts
    j = _journal("dependency-slow")
    pages = [_page("Watchdog", -5), _page("Watchdog", 10),
             _page("ModelServiceLatencyBudgetBurn", 122, long_window="1h", short_window="5m"),
             _page("ModelServiceSaturated", 49)]
    s = scoring.score(j, drill, pages)
    assert (s.ttd_s, s.detected_by) == (49.0, "page: ModelServiceSaturated")
    assert [p["alert"] for p in s.pages] == ["ModelServiceSaturated", "ModelServiceLatencyBudgetBurn [1h/5m]"]


def test_a_page_before_the_injection_is_not_detection_and_an_earlier_ack_wins() -> None:
    drill = catalogue.get("error-burst")
    j = _journal("error-burst")
    pages = [_page("ModelServiceErrorBudgetBurn", -20), _page("ModelServiceErrorBudgetBurn", 45)]
    assert scoring.score(j, drill, pages).ttd_s == 45.0
    j.acked_at = T0 + 20
    s = scoring.score(j, drill, pages)
    assert (s.ttd_s, s.detected_by) == (20.0, "ack")


def test_pages_are_listed_in_order_with_their_windows_and_who_acked() -> None:
    drill = catalogue.get("error-burst")
    j = _journal("error-burst")
    fast = _page("ModelServiceErrorBudgetBurn", 30, long_window="1h", short_window="5m")
    fast.update(acked_at=T0 + 50, acked_by="drill-ack")
    slow = _page("ModelServiceErrorBudgetBurn", 90, long_window="6h", short_window="30m")
    s = scoring.score(j, drill, [slow, fast])
    assert s.pages == [
        {"alert": "ModelServiceErrorBudgetBurn [1h/5m]", "severity": "page", "after_s": 30.0,
         "acked_by": "drill-ack", "acked_after_s": 50.0},
        {"alert": "ModelServiceErrorBudgetBurn [6h/30m]", "severity": "page", "after_s": 90.0,
         "acked_by": None, "acked_after_s": None}]


def test_undoing_your_own_change_is_not_a_second_wrong_action() -> None:
    drill = catalogue.get("dependency-slow")  # accepts traffic_feed_timeout_ms and traffic_feed_fallback
    j = _journal("dependency-slow")
    _config(j, 40, "traffic_feed", "live", None)   # wrong lever
    _config(j, 70, "traffic_feed", None, "live")   # ... undone: not counted again
    s = scoring.score(j, drill, [_page("ModelServiceLatencyBudgetBurn", 20)])
    assert len(s.wrong_actions) == 1 and "'live' -> None" in s.wrong_actions[0]
    assert len(s.reverted) == 1 and "None -> 'live'" in s.reverted[0]
    assert s.score == 90


def test_a_change_that_does_not_restore_the_previous_value_is_wrong_again() -> None:
    drill = catalogue.get("dependency-slow")
    j = _journal("dependency-slow")
    _config(j, 40, "traffic_feed", "live", None)
    _config(j, 70, "traffic_feed", None, "cached")
    _config(j, 90, "traffic_feed", "live", None)  # "before" does not match the latest change: not a revert
    s = scoring.score(j, drill, [])
    assert len(s.wrong_actions) == 3 and s.reverted == []


def test_a_silence_on_a_page_of_the_drill_is_wrong_even_where_silences_would_be_fine() -> None:
    drill = catalogue.get("bad-model-deploy")
    j = _journal("bad-model-deploy")
    matchers = [{"name": "alertname", "value": "ModelQuality.*", "isRegex": True, "isEqual": True}]
    j.add("learner", 'silence {alertname=~"ModelQuality.*"} for 60 min by me', at=T0 + 60, key="silence@a",
          action="silence:create", matchers=matchers, silence_id="a")
    other = [{"name": "alertname", "value": "DriftMonitorDown", "isRegex": False, "isEqual": True}]
    j.add("learner", 'silence {alertname="DriftMonitorDown"} for 60 min by me', at=T0 + 70, key="silence@b",
          action="silence:create", matchers=other, silence_id="b")
    pages = [_page("ModelQualityDegraded", 64)]
    s = scoring.score(j, drill, pages)
    assert len(s.wrong_actions) == 1 and "ModelQuality" in s.wrong_actions[0]
    assert "hides a page" in s.wrong_actions[0]
    # It also counts when the page never arrived (the silence hid it): the drill expects that alert.
    assert len(scoring.score(j, drill, []).wrong_actions) == 1


def test_a_negative_matcher_does_not_hide_the_page_it_excludes() -> None:
    drill = catalogue.get("bad-model-deploy")
    j = _journal("bad-model-deploy")
    matchers = [{"name": "alertname", "value": "ModelQualityDegraded", "isRegex": False, "isEqual": False},
                {"name": "severity", "value": "ticket", "isRegex": False, "isEqual": True}]
    j.add("learner", "silence", at=T0 + 60, key="silence@c", action="silence:create", matchers=matchers)
    assert scoring.score(j, drill, [_page("ModelQualityDegraded", 64)]).wrong_actions == []


def test_penalties_add_up_and_an_unmitigated_drill_scores_zero() -> None:
    drill = catalogue.get("error-burst")  # estimated 10 minutes, accepts config:error_ratio
    j = _journal("error-burst", passed_after=600 + 65)  # 65 s late: three started half-minutes
    j.hints_used = 2
    j.add("learner", "model-service restarted", at=T0 + 30, key="r", action="restart:model-service")
    s = scoring.score(j, drill, [])
    assert s.ttd_s is None and len(s.wrong_actions) == 1
    assert s.score == 100 - 20 - 10 - 3 - 10
    j.passed_at = None
    assert scoring.score(j, drill, []).score == 0
