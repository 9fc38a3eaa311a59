"""What a drill needs beyond its catalogue entry, by drill id: extra assertions, a deliberate wrong move, or
the manual steps of a mitigation that is an instruction rather than a command. A drill without an entry
is played from its catalogue entry alone."""

from __future__ import annotations

from aiops_core import http as lab_http
from aiops_core.polling import wait_until
from labs.drills.fault_types import ConfigFlagFault
from tests.labs.drills import steps
from tests.labs.drills.lab import Lab
from tests.labs.drills.plan import Plan, Run
from tests.labs.drills.steps import assert_check_fails


def _second_start_is_refused(lab: Lab, run: Run) -> None:
    again = lab.cli("drill", "start", "service-crash")
    assert again.returncode == 5 and "already running" in again.stderr, again.stdout + again.stderr


def _ack_the_page(lab: Lab, run: Run) -> None:
    steps.ack(lab)


def _fix_the_scrape_target(lab: Lab, run: Run) -> None:
    """The guide's fix: put the service's port back in the rendered config, then reload Prometheus."""
    config = lab.state / "run" / "config" / "prometheus.yml"
    port = lab.env["AIOPS_MODEL_SERVICE_PORT"]
    text = config.read_text()
    target_at = text.index("127.0.0.1:", text.index("job_name: model-service"))
    end = text.index("\n", target_at)
    config.write_text(text[:target_at] + f"127.0.0.1:{port}" + text[end:])


def _the_config_fix_is_on_the_timeline(lab: Lab, run: Run) -> None:
    """Neither the edit nor the curl reload goes through the lab's CLI; both must still be on the timeline."""
    journal = lab.journal()
    assert journal is not None
    kinds = [e["data"].get("action") for e in journal["events"] if e["kind"] == "learner"]
    assert "monitoring:edit:prometheus.yml" in kinds and "monitoring:reload:prometheus" in kinds, kinds


def _restart_keeps_the_bad_model(lab: Lab, run: Run) -> None:
    """Wrong lever: a restart loads the same (bad) active version again, so the check keeps failing."""
    bad = lab.active_model()
    assert lab.cli("service", "restart").returncode == 0
    assert lab.active_model() == bad != "v1"
    assert_check_fails(lab)


def _restart_does_not_help_a_resilience_drill(lab: Lab, run: Run) -> None:
    """Wrong lever: a restart keeps the flags and the dependency stays faulty, so the check keeps failing.
    Judged only once the check's windows (15 s rates held 10 s) see nothing but the restarted process."""
    assert lab.cli("service", "restart").returncode == 0
    for fault in run.drill.faults:
        if isinstance(fault, ConfigFlagFault):
            assert lab.flags()[fault.flag] == fault.value
    prom = lab.url("prometheus") + "/api/v1/query"

    def uptime() -> float:
        result = lab_http.get(prom, params={"query": 'time() - max(process_start_time_seconds{job="model-service"})'},
                              timeout=10).json()["data"]["result"]
        return float(result[0]["value"][1]) if result else 0.0

    wait_until(lambda: uptime() >= 27, timeout=90, interval=1.0, what="27 s of metrics from the restarted service")
    assert_check_fails(lab)


def _one_wrong_restart(lab: Lab, run: Run) -> None:
    wrong = run.report["score"]["wrong_actions"]
    assert len(wrong) == 1 and "restarted" in wrong[0], wrong
    assert run.report["score"]["score"] <= 90


def _errors_were_served(lab: Lab, run: Run) -> None:
    assert run.report["server_impact"]["server_errors"] > 0


def _clients_were_refused(lab: Lab, run: Run) -> None:
    assert run.report["client_impact"]["refused"] > 0, "users saw refused connections while it was down"


PLANS: dict[str, Plan] = {
    "error-burst": Plan(after_start=_second_start_is_refused, after_report=_errors_were_served),
    "service-crash": Plan(after_page=_ack_the_page, after_report=_clients_were_refused),
    "monitoring-blind-spot": Plan(manual_steps=_fix_the_scrape_target, after_report=_the_config_fix_is_on_the_timeline),
    # Its page is a burn rate over the last 5 lab minutes of *all* /predict requests: 0.9 slow requests/s
    # against an earlier drill's 8 fast ones reach 14.4% only once those age out (~5 min instead of ~20 s).
    "latency-regression": Plan(quiet_lab=True),
    "bad-model-deploy": Plan(wrong_move=_restart_keeps_the_bad_model, expect_wrong_actions=1,
                             after_report=_one_wrong_restart),
    # The resilience drill's wrong move runs on a drill that is not heavy: 30 s more of a surge would hold
    # every other lab up. It pages on the latency burn rate too: after the capacity run's ~50,000 fast requests
    # on the same lab it paged after 301 s instead of 77 s on a quiet one (the pool's longest job, 368 s).
    "dependency-slow": Plan(wrong_move=_restart_does_not_help_a_resilience_drill, expect_wrong_actions=1,
                            after_report=_one_wrong_restart, quiet_lab=True),
    # covariate-drift, concept-drift and stale-model retrain and promote a new model: `drill stop` re-activates
    # the pre-drill model (the engine's baseline rollback), and the stop assertions prove v1 is active again.
}
