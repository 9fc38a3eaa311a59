"""How long one drift-monitor run takes, and whether memory stays flat over many runs.

Setup: a registry version whose reference sample holds ``--reference-rows`` rows, and a real SQLite
prediction log with ``--rows`` predictions of the same distribution (half with feedback). Then the monitor's
own ``run_once`` (read window -> Evidently -> HTML + JSON report -> gauges) runs ``--runs`` times.

Printed: the first run (pays Evidently's import), the steady-state run time (median, p10-p90, max) against
the target, a baseline measured in the same process (a bare Evidently report with only the six drift
metrics and no files), the peak Python allocation of one run (tracemalloc) and the RSS after every run:
flat RSS means no leak across runs.

Targets (issue 18): median steady run <= 1 s for 10k current vs 10k reference rows; RSS after the last run
within 5 % of the RSS after the first (which already holds Evidently and one report's worth of memory).

    .venv/bin/python benchmarks/drift_bench.py                # 10k vs 10k rows, 50 runs
    .venv/bin/python benchmarks/drift_bench.py --runs 10 --rows 2000
    .venv/bin/python benchmarks/drift_bench.py --smoke --out /tmp/x   # seconds; checks that it runs

The result goes to ``--out`` (benchmarks/results/) as ``drift-<time>.json``, compared with the previous one.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

import psutil

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import bench_record  # noqa: E402

from model_service import training  # noqa: E402
from model_service.features import FEATURE_NAMES, TARGET  # noqa: E402
from model_service.generator import generate  # noqa: E402
from model_service.registry import Registry  # noqa: E402
from monitoring.drift.monitor import Monitor  # noqa: E402
from monitoring.drift.settings import DriftSettings  # noqa: E402
from tests.monitoring.drift.traffic import log_traffic  # noqa: E402

TARGET_SECONDS = 1.0
TARGET_RSS_DRIFT = 0.05


def _setup(root: Path, rows: int, reference_rows: int) -> DriftSettings:
    models = root / "models"
    reg = Registry(models)
    version = reg.register(training.train(rows=5000, seed=7))
    reg.activate(version, actor="bench")
    reference = generate(reference_rows, 99, "normal")[[*FEATURE_NAMES, TARGET]]
    reference.to_csv(models / version / "reference.csv", index=False)
    log_traffic(root / "predictions.db", models, version, rows, 5, "normal", spacing_s=0.01)
    return DriftSettings.from_env(interval_s=3600, window_s=0, window_rows=rows, min_rows=min(500, rows),
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


def measure(args: argparse.Namespace) -> dict[str, Any]:
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
        rss = [proc.memory_info().rss / 2**20]  # after run 1, 2, ...
        for i in range(2, args.runs + 1):
            t0, c0 = time.perf_counter(), time.process_time()
            summary = monitor.run_once()
            durations.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
            assert summary.outcome == "success", summary.reason
            rss.append(proc.memory_info().rss / 2**20)
            if i % 5 == 0 or i == args.runs:  # interleaved, so a noisy machine slows both alike
                baselines.append(_baseline(monitor))
        tracemalloc.start()
        monitor.run_once()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    deciles = statistics.quantiles(durations, n=10, method="inclusive") if len(durations) >= 2 else durations * 9
    return {"rows": args.rows, "reference_rows": args.reference_rows, "runs": args.runs,
            "labelled_rows": first.quality.rows if first.quality else 0, "first_run_s": first_s,
            "run_s": {"median": statistics.median(durations), "p10": deciles[0], "p90": deciles[-1],
                      "min": min(durations), "max": max(durations)},
            "cpu_s_median": statistics.median(cpu), "baseline_s_median": statistics.median(baselines),
            "peak_python_alloc_mib": peak / 2**20, "rss_mib": rss,
            "rss_drift": (rss[-1] - rss[0]) / rss[0], "load_average_after": list(psutil.getloadavg())}


def targets(r: dict[str, Any]) -> list[dict[str, Any]]:
    median = r["run_s"]["median"]
    return [
        {"name": f"steady run, {r['rows']:,} vs {r['reference_rows']:,} rows (median of {r['runs'] - 1})",
         "value": f"{median:.3f} s (p10-p90 {r['run_s']['p10']:.3f}-{r['run_s']['p90']:.3f} s)",
         "target": f"<= {TARGET_SECONDS:g} s", "pass": median <= TARGET_SECONDS},
        {"name": f"RSS after run {r['runs']} vs after run 1", "value": f"{r['rss_drift']:+.1%} "
         f"({r['rss_mib'][0]:.0f} -> {r['rss_mib'][-1]:.0f} MiB, max {max(r['rss_mib']):.0f})",
         "target": f"within +-{TARGET_RSS_DRIFT:.0%}", "pass": abs(r["rss_drift"]) <= TARGET_RSS_DRIFT},
    ]


def show(r: dict[str, Any]) -> None:
    run = r["run_s"]
    print(f"drift monitor run: {r['rows']} current rows vs {r['reference_rows']} reference rows, "
          f"{len(FEATURE_NAMES)} features + prediction, quality on {r['labelled_rows']} labelled rows")
    print(f"  first run (imports Evidently):  {r['first_run_s']:6.2f} s")
    print(f"  steady run, {r['runs'] - 1} runs:  median {run['median']:.3f} s   p10 {run['p10']:.3f} s   "
          f"p90 {run['p90']:.3f} s   max {run['max']:.3f} s")
    print(f"  CPU time per run (less sensitive to other load): median {r['cpu_s_median']:.3f} s")
    print(f"  baseline (bare Evidently, 6 ValueDrift, no files): median {r['baseline_s_median']:.3f} s  -> "
          f"full run = {run['median'] / r['baseline_s_median']:.1f}x baseline")
    print(f"  peak Python allocation in one run (tracemalloc): {r['peak_python_alloc_mib']:.1f} MiB")
    rss = r["rss_mib"]
    marks = sorted({1, min(10, len(rss)), len(rss)})
    print("  RSS after run " + ", ".join(f"{k}: {rss[k - 1]:.0f} MiB" for k in marks))
    print(f"  load average after the runs: {', '.join(f'{x:.1f}' for x in r['load_average_after'])} "
          f"on {psutil.cpu_count()} cores")


def compare(r: dict[str, Any], out: Path) -> None:
    old = bench_record.previous_announced("drift", out)
    if old is None:
        return
    then = old.get("figures", {})
    for label, get in (("steady run median s", lambda x: x["run_s"]["median"]),
                       ("CPU per run s", lambda x: x["cpu_s_median"]),
                       ("bare Evidently baseline s", lambda x: x["baseline_s_median"]),
                       ("RSS drift", lambda x: x["rss_drift"])):
        try:
            print(f"  {label:<28} {bench_record.change(get(then), get(r))}")
        except (KeyError, TypeError):
            continue


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000, help="current window rows")
    parser.add_argument("--reference-rows", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--out", type=Path, default=bench_record.RESULTS, help="directory for the result JSON")
    parser.add_argument("--note", default="", help="a word on what this run measures (kept in the JSON)")
    parser.add_argument("--smoke", action="store_true", help="3 runs on 1,000 rows: proves the benchmark runs")
    args = parser.parse_args(argv)
    if args.smoke:
        args.rows, args.reference_rows, args.runs = 1000, 1000, 3
    if args.runs < 2:
        parser.error("--runs must be at least 2 (the first run pays the imports and is reported apart)")

    figures = measure(args)
    verdicts = targets(figures)
    result = {"kind": "drift", "time": time.strftime("%Y-%m-%dT%H:%M:%S"), "machine": bench_record.machine(),
              "versions": bench_record.versions(), "settings": {"smoke": args.smoke, "note": args.note},
              "figures": figures, "targets": verdicts}
    show(figures)
    compare(figures, args.out)
    return bench_record.finish("drift", result, verdicts, args.out, args.smoke)


if __name__ == "__main__":
    raise SystemExit(main())
