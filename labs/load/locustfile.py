"""Traffic for the model service: single and batch predictions, with ground-truth feedback arriving later.

Run it directly or through the CLI::

    locust -f labs/load/locustfile.py --host http://127.0.0.1:8000 --headless -u 50 -t 2m \\
        --shape spike --data rain
    aiops-lab load run --profile spike --data rain --users 50 --duration 2m

Options (each also an environment variable, so a compose service can set them):
  --shape / AIOPS_LOAD_PROFILE             traffic shape: steady, ramp, spike, soak, diurnal (shapes.py)
  --shape-params / AIOPS_LOAD_SHAPE_PARAMS shape settings, e.g. "spike_at=0.5,spike_length=0.1"
  --data / AIOPS_LOAD_DATA                 data profile: a generator scenario (normal, rain, unit-error, ...)
  --feedback-delay / AIOPS_LOAD_FEEDBACK_DELAY  seconds from prediction to ground truth (default 5)
  --feedback-ratio / AIOPS_LOAD_FEEDBACK_RATIO  share of predictions that get feedback (default 0.5)
  --batch-size / AIOPS_LOAD_BATCH_SIZE     rows per batch request (default 10)
  --think-scale / AIOPS_LOAD_THINK_SCALE   multiplies every think time; 0 = closed loop (capacity tests)
  --seed / AIOPS_LOAD_SEED                 data seed (default: a new one per run)
``-u`` is the shape's peak user count and ``-t`` its duration.

Users feed back the generator's true delivery time after the delay, so windowed MAE and the quality alerts
work. The feedback queue is per user and drained by a task (never ``time.sleep`` in a task): the user sends
what is due between its predictions, as a client app would when deliveries complete.
"""

from __future__ import annotations

import logging
import os
import random
import re
import sys
from itertools import count
from typing import Any

from locust import FastHttpUser, LoadTestShape, events, task
from locust.env import Environment

from labs.load import reporting, shapes
from labs.load.data import DATA_PROFILES, FeedbackQueue, RowSource
from labs.load.profiles import TRAFFIC_PROFILES
from model_service.client import service_url

# Request names as they appear in Locust's statistics: one row per kind of call, not per URL.
SINGLE = "/predict [single]"
BATCH = "/predict [batch]"
FEEDBACK = "/feedback"
MAX_FEEDBACK_PER_TASK = 50  # one feedback task stays short even after a stall
_QUOTED = re.compile(r"'[^']*'")

_user_numbers = count()


@events.init_command_line_parser.add_listener
def _add_arguments(parser: Any) -> None:
    parser.add_argument("--shape", choices=list(TRAFFIC_PROFILES), default="steady", env_var="AIOPS_LOAD_PROFILE",
                       help="Traffic shape (-u is its peak, -t its duration).")
    parser.add_argument("--shape-params", default="", env_var="AIOPS_LOAD_SHAPE_PARAMS",
                       help='Shape settings, e.g. "spike_at=0.5,spike_length=0.1".')
    parser.add_argument("--data", choices=list(DATA_PROFILES), default="normal", env_var="AIOPS_LOAD_DATA",
                       help="Data profile: which generator scenario the requests come from.")
    parser.add_argument("--feedback-delay", type=float, default=5.0, env_var="AIOPS_LOAD_FEEDBACK_DELAY",
                       help="Seconds between a prediction and its ground-truth feedback.")
    parser.add_argument("--feedback-ratio", type=float, default=0.5, env_var="AIOPS_LOAD_FEEDBACK_RATIO",
                       help="Share of predictions that receive feedback (0-1).")
    parser.add_argument("--batch-size", type=int, default=10, env_var="AIOPS_LOAD_BATCH_SIZE",
                       help="Rows per batch prediction request.")
    parser.add_argument("--think-scale", type=float, default=1.0, env_var="AIOPS_LOAD_THINK_SCALE",
                       help="Multiplies every think time; 0 sends back-to-back (capacity tests).")
    parser.add_argument("--seed", type=int, default=-1, env_var="AIOPS_LOAD_SEED",
                       help="Data seed; -1 picks a new one per run.")
    parser.add_argument("--progress-file", default="", include_in_web_ui=False,
                       help="Write live progress JSON here (used by aiops-lab load).")
    parser.add_argument("--summary-file", default="", include_in_web_ui=False,
                       help="Write the final per-request summary JSON here (used by aiops-lab load).")


@events.init.add_listener
def _on_init(environment: Environment, **_: Any) -> None:
    opts = environment.parsed_options
    if opts is None:  # used as a library without command-line options
        return
    problem = _check_options(opts)
    if problem:  # refuse at start-up with one line, not at the first tick with a traceback
        logging.getLogger("aiops.load").error(problem)
        sys.exit(2)
    if opts.seed < 0:
        opts.seed = random.SystemRandom().randrange(2**31)
    reporting.attach(environment, opts.progress_file, opts.summary_file)


def _check_options(opts: Any) -> str | None:
    try:
        shapes.parse_params(opts.shape, opts.shape_params)
    except ValueError as exc:
        return f"--shape-params: {exc}"
    if not 0.0 <= opts.feedback_ratio <= 1.0:
        return f"--feedback-ratio {opts.feedback_ratio} must be between 0 and 1"
    if opts.feedback_delay < 0 or opts.think_scale < 0:
        return "--feedback-delay and --think-scale must be >= 0"
    if not 1 <= opts.batch_size <= 1000:
        return f"--batch-size {opts.batch_size} must be 1-1000 (the service's batch limit)"
    return None


class _LabUser(FastHttpUser):
    """Shared plumbing: this user's rows, its pending feedback, and response checks."""

    abstract = True
    host = os.environ.get("AIOPS_LOAD_HOST") or service_url()
    network_timeout = 10.0
    connection_timeout = 5.0
    think_range: tuple[float, float] = (0.5, 2.0)

    def wait_time(self) -> float:
        low, high = self.think_range
        return random.uniform(low, high) * self._think_scale

    def on_start(self) -> None:
        opts = self.environment.parsed_options
        number = next(_user_numbers)
        self._think_scale = opts.think_scale if opts else 1.0
        self.rows = RowSource(opts.data if opts else "normal", opts.seed if opts else 0, number)
        self.feedback = FeedbackQueue(opts.feedback_delay if opts else 5.0, opts.feedback_ratio if opts else 0.5,
                                      seed=number)
        self.batch_size = opts.batch_size if opts else 10

    def _post_predict(self, body: dict[str, Any], name: str) -> list[str]:
        with self.client.post("/predict", json=body, name=name, catch_response=True) as resp:
            if resp.status_code != 200:
                resp.failure(f"HTTP {resp.status_code}: {_error_text(resp)}")
                return []
            try:
                data = resp.json()
                preds = data.get("predictions", [data])
                return [p["prediction_id"] for p in preds]
            except (ValueError, KeyError, TypeError):
                resp.failure("response has no prediction_id")
                return []

    @task(1)
    def send_due_feedback(self) -> None:
        """Report the true delivery time of every prediction whose delivery has finished."""
        for item in self.feedback.due(MAX_FEEDBACK_PER_TASK):
            with self.client.post(FEEDBACK, json={"prediction_id": item.prediction_id, "actual": item.actual},
                                  name=FEEDBACK, catch_response=True) as resp:
                if resp.status_code != 200:
                    resp.failure(f"HTTP {resp.status_code}: {_error_text(resp)}")


class PredictionUser(_LabUser):
    """A checkout page asking for one delivery estimate at a time: most of the traffic."""

    weight = 8

    @task(4)
    def predict_one(self) -> None:
        record, actual = self.rows.next()
        ids = self._post_predict(record, SINGLE)
        if ids:
            self.feedback.add(ids[0], actual)


class BatchPredictionUser(_LabUser):
    """A dispatcher re-estimating a batch of open orders every few seconds."""

    weight = 1
    think_range = (2.0, 5.0)

    @task(4)
    def predict_batch(self) -> None:
        rows, actuals = self.rows.take(self.batch_size)
        ids = self._post_predict({"instances": rows}, BATCH)
        for prediction_id, actual in zip(ids, actuals, strict=False):
            self.feedback.add(prediction_id, actual)


def _error_text(resp: Any) -> str:
    """The service's one-line ``error`` field, or the start of whatever else came back.

    Quoted values (prediction ids, offending inputs) are masked: Locust keeps one failure row per distinct
    message, and a message per prediction id would grow without bound.
    """
    try:
        text = str(resp.json().get("error", ""))
    except Exception:  # not JSON (a proxy's HTML page, a reset connection): show the raw text
        text = str(resp.text or "")
    return _QUOTED.sub("'…'", text)[:200]


class LabShape(LoadTestShape):
    """Runs the shape chosen with ``--shape`` (the traffic profiles in shapes.py), scaled by -u and -t.

    Locust uses the first shape class it finds in a locustfile, so this one selector stands in for all of
    them and reads the choice at start (the web UI can change it between runs).
    """

    use_common_options = True

    def __init__(self) -> None:
        super().__init__()
        self._impl: shapes.ProfileShape | None = None

    def reset_time(self) -> None:
        super().reset_time()
        self._impl = None

    def tick(self) -> tuple[int, float] | None:
        if self._impl is None:
            opts = self.runner.environment.parsed_options if self.runner is not None else None
            if opts is None:
                self._impl = shapes.build("steady")
            else:
                run_time = opts.run_time or None
                self._impl = shapes.build(opts.shape, users=opts.num_users, duration=run_time,
                                          params=opts.shape_params)
            self._impl.get_run_time = self.get_run_time  # type: ignore[method-assign]
        return self._impl.tick()

