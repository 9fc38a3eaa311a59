"""Module 03, alert on it: a p99-latency alert rule with labels, annotations, a runbook link and tests.

Three judges, all ``promtool`` (the tool a CI pipeline uses on real rule files): the rule file loads, the
learner's own unit tests pass, and hidden reference cases -- generated here at check time from the spec in
the module README -- pass against the learner's rule: sustained slowness fires exactly when ``for:``
elapses, a p99 tail fires although the average is fast, a 0.5 % tail and slow non-/predict routes stay
silent. The hidden rule is the learner's expression wrapped in ``count()`` with its ``for:``, so the
reference cases do not depend on which labels the learner's aggregation keeps.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import yaml

from aiops_core import paths, yaml_text
from aiops_core.errors import ExitStatus, LabError
from labs.curriculum.catalogue import Exercise
from labs.curriculum.checks import alert_cases
from labs.curriculum.context import Context
from labs.curriculum.steps import Fail

RULES = "alert.rules.yml"
TESTS = "alert.test.yml"
ALERT = "PredictLatencyP99High"
SEVERITIES = ("page", "ticket")


def promtool() -> str:
    binary = shutil.which("promtool")
    if binary is None:
        raise LabError("promtool is not installed; install it: apt-get install -y prometheus",
                       ExitStatus.MISSING_DEPENDENCY)
    return binary


def run_promtool(*args: str, cwd: Path) -> tuple[int, str]:
    proc = subprocess.run([promtool(), *args], cwd=cwd, capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL)
    return proc.returncode, (proc.stdout + proc.stderr).strip()


def _yaml(path: Path, step: str) -> Any:
    if not path.is_file():
        raise Fail(step, f"{path} does not exist", f"run: aiops-lab lab start {path.parent.name} (starter files)")
    try:
        return yaml_text.load(path.read_text())
    except yaml.YAMLError as exc:
        raise Fail(step, f"{path.name} is not valid YAML: {str(exc).splitlines()[0]}", "fix the YAML syntax") from None


def find_alert(ctx: Context) -> dict[str, Any]:
    """The learner's alert rule (after ``promtool check rules`` accepted the file)."""
    path = ctx.file(RULES)
    if not path.is_file():
        raise Fail("the rule file loads", f"{path} does not exist", f"run: aiops-lab lab start {ctx.module_id}")
    code, out = run_promtool("check", "rules", RULES, cwd=ctx.workspace)
    if code != 0:
        raise Fail("the rule file loads", f"promtool check rules: {out.splitlines()[-1] if out else code}",
                   f"run it yourself: cd {ctx.workspace} && promtool check rules {RULES}")
    ctx.steps.ok("the rule file loads", "promtool check rules: SUCCESS")
    doc = _yaml(path, "the rule file loads") or {}
    rules = [r for g in doc.get("groups") or [] for r in g.get("rules") or []]
    matches = [r for r in rules if r.get("alert") == ALERT]
    if len(matches) != 1:
        names = ", ".join(str(r.get("alert") or r.get("record")) for r in rules) or "none"
        raise Fail(f"an alert named {ALERT}", f"found {len(matches)} (rules in the file: {names})",
                   f"name the alert exactly {ALERT}: the hidden tests look for that name")
    return matches[0]


def _runbook_exists(ref: str, workspace: Path) -> bool:
    ref = ref.strip()
    if ref.startswith(("http://", "https://")):
        tail = ref.rstrip("/").rsplit("/", 1)[-1]
        return (paths.REPO_ROOT / "runbooks" / tail).is_file() or (workspace / tail).is_file()
    candidate = Path(ref)
    return any((base / candidate).is_file() for base in (paths.REPO_ROOT, workspace)) or candidate.is_file()


def check_rule(ctx: Context) -> None:
    s = ctx.steps
    rule = find_alert(ctx)
    labels = rule.get("labels") or {}
    s.check(labels.get("severity") in SEVERITIES, "label severity", f"severity: {labels.get('severity')!r}",
            f"add labels: {{severity: page}} (the lab routes on {' / '.join(SEVERITIES)})")
    ann = rule.get("annotations") or {}
    for key in ("summary", "description"):
        s.check(bool(str(ann.get(key) or "").strip()), f"annotation {key}",
                "present" if ann.get(key) else "missing",
                "summary: one fixed sentence; description: what is happening, with {{ $value }} in it")
    url = str(ann.get("runbook_url") or "")
    s.check(bool(url) and _runbook_exists(url, ctx.workspace), "annotation runbook_url",
            f"{url!r}" + ("" if not url or _runbook_exists(url, ctx.workspace) else " does not exist"),
            "point it at a runbook file: e.g. runbooks/ModelServiceLatencyBudgetBurn.md (relative to the "
            "repository) or a runbook you write in your workspace")


def check_own_tests(ctx: Context) -> None:
    s = ctx.steps
    find_alert(ctx)
    doc = _yaml(ctx.file(TESTS), "your test file")
    if not isinstance(doc, dict) or not doc.get("tests"):
        raise Fail("your test file", f"{TESTS} has no 'tests:' list", "start from the starter test file")
    rule_files = [(ctx.workspace / str(f)).resolve() for f in doc.get("rule_files") or []]
    if (ctx.workspace / RULES).resolve() not in rule_files:
        raise Fail("your tests test your rule", f"rule_files in {TESTS} does not list {RULES}",
                   f"rule_files: [{RULES}] (paths are relative to the test file)")
    cases = [c for t in doc["tests"] if isinstance(t, dict) for c in t.get("alert_rule_test") or []
             if isinstance(c, dict) and c.get("alertname") == ALERT]
    fires = any(c.get("exp_alerts") for c in cases)
    silent = any(c.get("exp_alerts") == [] or "exp_alerts" not in c for c in cases)
    s.check(fires and silent, "your tests cover firing and silence",
            f"{len(cases)} alert_rule_test case(s) for {ALERT}: {'a' if fires else 'no'} firing case, "
            f"{'a' if silent else 'no'} silent case",
            "test both: exp_alerts: [] just before for: elapses (or with fast traffic), and the full alert with "
            "every label and annotation when it fires")
    code, out = run_promtool("test", "rules", TESTS, cwd=ctx.workspace)
    s.check(code == 0, "your tests pass", "promtool test rules: " + ("SUCCESS" if code == 0 else "FAILED"),
            "run them yourself to see why: cd " + str(ctx.workspace) + f" && promtool test rules {TESTS}\n"
            + "\n".join(out.splitlines()[-12:]))


def check_hidden(ctx: Context) -> None:
    rule = find_alert(ctx)
    hidden = {"alert": ALERT, "expr": f"count(({rule['expr']}))"}
    if rule.get("for"):
        hidden["for"] = rule["for"]
    if rule.get("keep_firing_for"):
        hidden["keep_firing_for"] = rule["keep_firing_for"]
    with tempfile.TemporaryDirectory(prefix="aiops-hidden-") as tmp:
        root = Path(tmp)
        (root / "rule.yml").write_text(yaml.safe_dump({"groups": [{"name": "hidden", "rules": [hidden]}]}))
        for case in alert_cases.CASES:
            (root / "case.test.yml").write_text(yaml.safe_dump(alert_cases.test_file(case, ALERT, "rule.yml")))
            code, out = run_promtool("test", "rules", "case.test.yml", cwd=root)
            ctx.steps.check(code == 0, f"hidden case: {case.name}", "passes" if code == 0 else
                            alert_cases.explain(case, out), case.hint)


EXERCISES = (
    Exercise("rule", "Write the alert rule with labels, annotations and a runbook link", check_rule),
    Exercise("own-tests", "Write promtool unit tests for it that pass", check_own_tests),
    Exercise("hidden-tests", "Pass the lab's hidden reference cases (firing and silent)", check_hidden),
)
