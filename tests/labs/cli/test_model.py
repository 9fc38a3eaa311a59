"""``aiops-lab model``: ``list`` reads the registry's JSON cards without loading a machine-learning stack;
a damaged registry is named and repaired; the promotion gate stops a retrain on wrong labels.

A learner's report (issue 12): ``model list`` took 6-8 s. Importing the ``model`` noun imported training
(scikit-learn), the data generator (numpy, pandas) and the registry's artifact loader (skops) before a
single card was read. The guard below is on imports, not on seconds: a fresh interpreter imports each noun
and must not have loaded any of them (the CLI imports a noun only when it runs one of its commands).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import pytest

from aiops_core import http as lab_http
from aiops_core.errors import ExitStatus
from aiops_core.polling import wait_until
from labs.cli.main import COMMANDS
from model_service.registry import Registry
from tests.support.lab import Lab, normal
from tests.support.processes import (
    ADMIN_TOKEN,
    ManagedProcess,
    ServiceUnderTest,
    free_port,
    lab_env,
    start_service,
)
from tests.support.speed import scaled

HEAVY = ("pandas", "numpy", "sklearn", "skops", "scipy", "evidently", "locust")


@pytest.mark.parametrize("module", sorted({module for module, _, _ in COMMANDS.values()}))
def test_importing_a_noun_loads_no_data_or_ml_library(module: str) -> None:
    probe = f"import sys, {module}; print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [], f"importing {module} loaded {done.stdout.strip()}"


@pytest.fixture
def lab(tmp_path: Path, trained_registry: Path) -> Lab:
    state = tmp_path / "state"
    shutil.copytree(trained_registry, state / "models")
    return Lab.create(state)


def test_list_shows_every_version_and_marks_the_active_one(lab: Lab) -> None:
    result = lab.run("model", "list")
    assert result.exit_code == 0, result.output
    rows = [line for line in result.output.splitlines() if line.startswith("│") and " v" in line]
    assert [row.split("│")[2].strip() for row in rows] == ["v1", "v2"], result.output
    assert rows[0].split("│")[1].strip() == "*" and rows[1].split("│")[1].strip() == ""
    assert "labels shuffled" in result.text, result.output  # v2's card says what is wrong with it


def test_train_options_still_offer_the_generators_scenarios(lab: Lab) -> None:
    """The choices are read when click needs them, from their one source (the generator, training)."""
    shown = lab.run("model", "train", "--help")
    assert shown.exit_code == 0 and "covariate-shift" in shown.text and "labels-shuffled" in shown.text
    wrong = lab.run("model", "train", "--scenario", "monsoon")
    assert wrong.exit_code == ExitStatus.USAGE and "'monsoon' is not one of" in wrong.output, wrong.output


# --- registry integrity and the promotion gate (issue 14) ---------------------------------------------------
# ``service`` (tests/conftest.py): the real service on a private copy of the trained registry (v1 active, v2
# trained on 60% shuffled labels).


def _lab_of(svc: ServiceUnderTest) -> Lab:
    """The CLI pointed at this service and at its state dir (one registry, one prediction log)."""
    return Lab.create(svc.state_dir, AIOPS_MODEL_SERVICE_URL=svc.url, AIOPS_ADMIN_TOKEN=ADMIN_TOKEN)


def _said(done: subprocess.CompletedProcess[str]) -> str:
    text = normal(done.stdout + done.stderr)
    assert "Traceback" not in text and "internal error" not in text, text
    return text


def _start_not_ready(state: Path) -> tuple[ManagedProcess, str]:
    """Start the service on ``state``; it must come up *not ready* (its admin API is the way out) and say why
    on /readyz. Returns the process (stop it) and that reason."""
    port = free_port()
    env = lab_env(state, AIOPS_PORT=str(port), AIOPS_ADMIN_TOKEN=ADMIN_TOKEN)
    proc = ManagedProcess([sys.executable, "-m", "model_service"], env, state / "not-ready-start.log").start()

    def answered() -> httpx.Response | None:
        assert proc.proc is not None and proc.proc.poll() is None, f"the service exited:\n{proc.output()[-3000:]}"
        try:
            return lab_http.get(f"http://127.0.0.1:{port}/readyz", timeout=2)
        except httpx.HTTPError:
            return None

    try:
        ready = wait_until(answered, timeout=scaled(30), what="the model service to answer /readyz")
        assert ready.status_code == 503, ready.text
        predict = lab_http.post(f"http://127.0.0.1:{port}/predict", json={}, timeout=5)
        assert predict.status_code in (422, 503), predict.text
    except BaseException:
        proc.stop()
        raise
    return proc, ready.text


def test_a_truncated_pointer_is_named_and_model_deploy_repairs_it_under_the_running_service(
        service: ServiceUnderTest) -> None:
    lab = _lab_of(service)
    pointer = service.state_dir / "models" / "active.json"
    pointer.write_bytes(pointer.read_bytes()[:20])  # a full disk cut the write short

    for args in (("model", "list"), ("model", "info"), ("model", "rollback")):
        done = lab.cli(*args)
        text = _said(done)
        assert done.returncode == ExitStatus.CONFLICT, text
        assert f"the active-model pointer {pointer} is corrupt (not valid JSON" in text, text
        assert "aiops-lab model repair" in text, text
    listed = lab_http.get(f"{service.url}/admin/models", headers=service.admin_headers, timeout=10)
    assert listed.status_code == 409 and f"{pointer} is corrupt" in listed.json()["error"]

    deployed = lab.cli("model", "deploy", "v1")  # the fix the runbook names: it never reads the broken pointer
    assert deployed.returncode == 0, _said(deployed)
    assert json.loads(pointer.read_text())["version"] == "v1"
    assert lab_http.get(f"{service.url}/readyz", timeout=10).status_code == 200
    assert lab.cli("model", "list").returncode == 0


def test_a_service_started_on_a_truncated_pointer_names_it_and_model_repair_brings_it_back(lab_state: Path) -> None:
    pointer = lab_state / "models" / "active.json"
    pointer.write_bytes(pointer.read_bytes()[:20])
    proc, why = _start_not_ready(lab_state)
    proc.stop()
    assert f"the active-model pointer {pointer} is corrupt" in why and "aiops-lab model repair" in why, why

    repaired = Lab.create(lab_state).cli("model", "repair")
    text = _said(repaired)
    assert repaired.returncode == 0, text
    assert f"{pointer} was corrupt (not valid JSON" in text and "restored it from deployments.jsonl: v1" in text

    svc = start_service(lab_state)  # waits for /readyz 200
    try:
        assert lab_http.get(f"{svc.url}/model", timeout=10).json()["version"] == "v1"
    finally:
        svc.process.stop()


def _serve_with_feedback(svc: ServiceUnderTest, rows: int, wrong_labels: bool) -> None:
    """Predict ``rows`` generated orders and post their delivery times as feedback; ``wrong_labels``: the label
    pipeline joins each order with another order's delivery time (the broken join of issue 14)."""
    from model_service import generator, training
    from model_service.features import TARGET

    frame = generator.generate(rows, 4242, "normal")
    labels = frame[TARGET].to_numpy()
    if wrong_labels:
        labels = np.random.default_rng(1).permutation(labels)
    records = generator.records(frame)

    def feedback(client: httpx.Client, prediction_id: str, actual: float) -> None:
        sent = client.post("/feedback", json={"prediction_id": prediction_id, "actual": round(actual, 3)})
        assert sent.status_code == 200, sent.text

    # The feedback goes out 16 at a time, as a label pipeline would send it: in sync log mode each answer
    # waits for its commit, so one at a time would spend ~20 s on the writer's 50 ms flush cycle.
    with svc.client() as client, ThreadPoolExecutor(16) as pool:
        for start in range(0, rows, 100):
            resp = client.post("/predict", json={"instances": records[start:start + 100]})
            assert resp.status_code == 200, resp.text
            sent = [pool.submit(feedback, client, p["prediction_id"], float(labels[i]))
                    for i, p in enumerate(resp.json()["predictions"], start=start)]
            for future in sent:
                future.result()
    wait_until(lambda: len(training.labelled_log_frame(svc.state_dir / "predictions.db")) >= rows,
               timeout=scaled(20), what=f"{rows} labelled rows in the prediction log")


def test_a_retrain_on_wrong_labels_is_refused_with_both_maes_and_force_deploys_it(service: ServiceUnderTest) -> None:
    lab = _lab_of(service)
    _serve_with_feedback(service, 360, wrong_labels=True)

    refused = lab.cli("model", "retrain", "--since", "1h")
    text = _said(refused)
    assert refused.returncode == ExitStatus.CONFLICT, text
    reg = Registry(service.state_dir / "models")
    assert reg.versions() == ["v1", "v2", "v3"]  # registered, for the postmortem; not deployed
    new, active = (reg.card(v).metrics["golden"].mae for v in ("v3", "v1"))
    assert new > 1.5 * active
    assert "v3 is registered but was not deployed" in text, text
    assert f"golden-set MAE is {new:.2f} min against {active:.2f} min for the active v1" in text, text
    assert "aiops-lab model deploy v3 --force" in text, text
    assert lab_http.get(f"{service.url}/model", timeout=10).json()["version"] == "v1"

    again = lab.cli("model", "deploy", "v3")
    assert again.returncode == ExitStatus.CONFLICT and "v3 is not promoted" in _said(again)
    forced = lab.cli("model", "deploy", "v3", "--force")
    assert forced.returncode == 0, _said(forced)
    assert lab_http.get(f"{service.url}/model", timeout=10).json()["version"] == "v3"
    assert reg.history()[-1] | {"time": ""} == {"time": "", "action": "deploy", "version": "v3", "previous": "v1",
                                                "actor": "cli", "forced": True}


def test_a_retrain_on_true_labels_passes_the_gate(service: ServiceUnderTest) -> None:
    lab = _lab_of(service)
    _serve_with_feedback(service, 360, wrong_labels=False)
    done = lab.cli("model", "retrain", "--since", "1h")
    assert done.returncode == 0, _said(done)
    assert lab_http.get(f"{service.url}/model", timeout=10).json()["version"] == "v3"
