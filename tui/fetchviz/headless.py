"""The runs without a UI: the same runner and events, printed as a table or as JSON."""

from __future__ import annotations

import asyncio
import json
from typing import Any, TextIO

from fetchviz.catalog import Strategy
from fetchviz.config import Config
from fetchviz.model import Baseline, Baselines, RunState, compare, fmt_lag, loop_blocked
from fetchviz.runner import Batch, Runner
from fetchviz.timeline import meter

BAR = 20


async def run_all(config: Config, strategies: list[Strategy]) -> list[RunState]:
    """Run each strategy in turn, to its end, and return what happened."""
    queue: asyncio.Queue[Batch] = asyncio.Queue()
    runner = Runner(asyncio.get_running_loop(), queue, live=False)
    runs = []
    try:
        for strategy in strategies:
            handle = runner.start(strategy, config)
            run = RunState.new(handle.run_id, strategy.id, config.tasks)
            while not run.done:
                for event in await queue.get():
                    if event.run_id == run.run_id:
                        run.apply(event)
            runs.append(run)
    finally:
        runner.close()  # on Ctrl+C, it kills the run's process
    return runs


def baseline_of(config: Config, runs: list[RunState]) -> Baseline | None:
    baselines = Baselines()
    for run in runs:
        baselines.record(config.baseline_key(), run)
    return baselines.get(config.baseline_key(), config.tasks, runs)


def result_json(config: Config, runs: list[RunState]) -> dict[str, Any]:
    baseline = baseline_of(config, runs)
    return {
        "config": {
            "tasks": config.tasks,
            "url": config.url,
            "delay_ms": config.delay_ms,
            "timeout": config.timeout,
            "workers": config.workers,
            "limit": config.limit,
        },
        "runs": [run.to_json() for run in runs],
        "baseline": (
            {"elapsed": round(baseline.elapsed, 4), "measured": baseline.measured}
            if baseline
            else {"elapsed": None, "measured": False}
        ),
    }


def print_json(config: Config, runs: list[RunState], out: TextIO) -> None:
    json.dump(result_json(config, runs), out, indent=2)
    out.write("\n")


def print_table(config: Config, runs: list[RunState], out: TextIO) -> None:
    """One line per run, best first when there are several, with a bar on a shared scale."""
    baseline = baseline_of(config, runs)
    out.write(f"{config.tasks} tasks · {config.url}\n\n")
    out.write(
        f"{'strategy':<18}{'elapsed':>9}{'ok':>7}{'failed':>7}{'loop lag':>10}  "
        f"{'':<{BAR}}  vs sync\n"
    )
    slowest = max((run.elapsed(0.0) for run in runs), default=0.0)
    for run in sorted(runs, key=lambda run: run.elapsed(0.0)):
        elapsed = run.elapsed(0.0)
        if run.error:
            versus = f"run failed: {run.error}"
        elif run.strategy == "sync" and baseline and baseline.measured:
            versus = "baseline"
        elif baseline:
            versus = compare(elapsed, baseline.elapsed)
        else:
            versus = "no baseline (no task finished)"
        lag = "—" if run.loop_lag_max is None else fmt_lag(run.loop_lag_max)
        if loop_blocked(run.loop_lag_max, elapsed):
            versus += " · loop blocked"
        bar = meter(elapsed / slowest if slowest else 0.0, BAR)
        out.write(
            f"{run.strategy:<18}{elapsed:>8.3f}s{run.ok:>7}{run.failed:>7}{lag:>10}  "
            f"{bar}  {versus}\n"
        )
    if baseline and not baseline.measured:
        out.write(
            f"\nsync baseline estimated at {baseline.elapsed:.3f}s "
            "(N × median task time); add -s sync to measure it\n"
        )
    failures = sorted({row.error for run in runs for row in run.tasks if row.error})
    if failures:
        out.write("\nfailures: " + "; ".join(failures[:5]) + "\n")
