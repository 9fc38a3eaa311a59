"""How long one drift-monitor run takes, and whether memory stays flat over many runs.

Setup: a registry version whose reference sample holds ``--reference-rows`` rows, and a real SQLite
prediction log with ``--rows`` predictions of the same distribution (half with feedback). Then the monitor's
own ``run_once`` (read window -> Evidently -> HTML + JSON report -> gauges) runs ``--runs`` times.

Printed: the first run (pays Evidently's import), the steady-state run time (median / p90 / max) against
the target, a baseline measured in the same process (a bare Evidently report with only the six drift
metrics and no files), the peak Python allocation of one run (tracemalloc) and the RSS after runs 1, 10
and N: flat RSS means no leak across runs.

    .venv/bin/python benchmarks/drift_bench.py                # 10k vs 10k rows, 50 runs
    .venv/bin/python benchmarks/drift_bench.py --runs 10 --rows 2000
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from model_service import training
from model_service.features import FEATURE_NAMES, TARGET
from model_service.generator import generate
from model_service.registry import Registry
from monitoring.drift.monitor import Monitor
from monitoring.drift.settings import DriftSettings
from tests.monitoring.drift.traffic import log_traffic

TARGET_SECONDS = 1.0


def _setup(root: Path, rows: int, reference_rows: int) -> DriftSettings:
    models = root / "models"
    reg = Registry(models)
    version = reg.register(training.train(rows=5000, seed=7))
    reg.activate(version, actor="bench")
    reference = generate(reference_rows, 99, "normal")[[*FEATURE_NAMES, TARGET]]
    reference.to_csv(models / version / "reference.csv", index=False)
    log_traffic(root / "predictions.db", models, version, rows, 5, "normal", spacing_s=0.01)
    return DriftSettings.from_env(interval_s=3600, window_s=0, window_rows=rows, min_rows=500,
                                  min_feedback_rows=50, reports_keep=3, prediction_log=root / "predictions.db",
                                  models_dir=models, reports_dir=root / "reports")


def _baseline(monitor: Monitor) -> float:
    """A bare Evidently report: the six drift metrics on the same frames, nothing saved."""
    from evidently import DataDefinition, Dataset, Report
    from evidently.metrics import ValueDrift

    from monitoring.drift.window import PREDICTION, read_window

    s = monitor.settings
    version = monitor.references.active_version()
    reference = monitor.references.get(version).frame
    current = read_window(s.prediction_log, version, time.time(), s.window_s, s.window_rows).frame
    cols = [*FEATURE_NAMES, PREDICTION]
    definition = DataDefinition(numerical_columns=[c for c in cols if c != "is_peak_hour"],
                                categorical_columns=["is_peak_hour"])
    metrics = [ValueDrift(column=c, method="jensenshannon" if c == "is_peak_hour" else "wasserstein",
                          threshold=0.2) for c in cols]
    started = time.perf_counter()
    Report(metrics).run(Dataset.from_pandas(current[cols], data_definition=definition),
                        Dataset.from_pandas(reference[cols], data_definition=definition))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000, help="current window rows")
    parser.add_argument("--reference-rows", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    proc = psutil.Process()

    with tempfile.TemporaryDirectory(prefix="drift-bench-") as tmp:
        settings = _setup(Path(tmp), args.rows, args.reference_rows)
        monitor = Monitor(settings)
        started = time.perf_counter()
        first = monitor.run_once()
        first_s = time.perf_counter() - started
        assert first.outcome == "success", first.reason
        assert first.window.rows == args.rows and first.reference_rows == args.reference_rows

        durations: list[float] = []
        cpu: list[float] = []
        baselines: list[float] = []
        rss: dict[int, float] = {1: proc.memory_info().rss / 2**20}
        for i in range(2, args.runs + 1):
            t0, c0 = time.perf_counter(), time.process_time()
            summary = monitor.run_once()
            durations.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
            assert summary.outcome == "success", summary.reason
            if i in (10, args.runs):
                rss[i] = proc.memory_info().rss / 2**20
            if i % 5 == 0:  # interleaved, so a noisy machine slows both alike
                baselines.append(_baseline(monitor))
        tracemalloc.start()
        monitor.run_once()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()

    median = statistics.median(durations)
    p90 = statistics.quantiles(durations, n=10)[-1] if len(durations) >= 10 else max(durations)
    base = statistics.median(baselines)
    print(f"drift monitor run: {args.rows} current rows vs {args.reference_rows} reference rows, "
          f"{len(FEATURE_NAMES)} features + prediction, quality on {first.quality.rows} labelled rows")
    print(f"  first run (imports Evidently):  {first_s:6.2f} s")
    print(f"  steady run, {len(durations)} runs:  median {median:.3f} s   p90 {p90:.3f} s   max {max(durations):.3f} s"
          f"   target <= {TARGET_SECONDS:.1f} s: {'OK' if median <= TARGET_SECONDS else 'MISSED'}")
    print(f"  CPU time per run (less sensitive to other load): median {statistics.median(cpu):.3f} s")
    print(f"  baseline (bare Evidently, 6 ValueDrift, no files): median {base:.3f} s  -> full run = "
          f"{median / base:.1f}x baseline")
    print(f"  peak Python allocation in one run (tracemalloc): {peak / 2**20:.1f} MiB")
    print("  RSS after run " + ", ".join(f"{k}: {v:.0f} MiB" for k, v in sorted(rss.items()))
          + f"  (growth 10 -> {args.runs}: {rss[args.runs] - rss.get(10, rss[1]):+.0f} MiB)")
    print(f"  load average during the run: {', '.join(f'{x:.1f}' for x in psutil.getloadavg())} "
          f"on {psutil.cpu_count()} cores")


if __name__ == "__main__":
    main()
