"""The runs without a UI: the same runner and events, printed as a table or as JSON."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any, TextIO

from fetchviz.core.baseline import Baseline, Baselines, rank, verdict
from fetchviz.core.catalog import Strategy
from fetchviz.core.config import Config
from fetchviz.core.model import RunState, fmt_lag, loop_blocked
from fetchviz.core.source import Batch, EventSource, RunRequest
from fetchviz.core.timeline import meter, terminal_width
from fetchviz.runs.runner import Runner

BAR = 20
# How to turn the baseline's estimate into a measurement, in the words of the command in use.
MEASURE_LIVE = "add -s sync to measure it"


async def run_all(
    config: Config,
    strategies: list[Strategy],
    source: EventSource | None = None,
    before_each: Callable[[Strategy], None] | None = None,
    runs: list[RunState] | None = None,
    sample: bool = True,
) -> list[RunState]:
    """Run each strategy in turn, to its end, and return what happened.

    `before_each` runs before every run, given its strategy (the CLI says which runs, and
    restarts an embedded server that died). A
    sync sample is asked for once, after the first run, when no sync run is still to come.
    `runs` is filled as each run starts: if this is cancelled (Ctrl+C), it holds what
    finished, and the run cut short, ended as cancelled by its source, the same way as any end.
    `sample=False`: no sync sample at all (what asks nothing of the baseline saves its time).
    """
    queue: asyncio.Queue[Batch] = asyncio.Queue()
    source = source or Runner(live=False)
    source.open(queue.put_nowait)
    baselines = Baselines()
    runs = [] if runs is None else runs
    try:
        for i, strategy in enumerate(strategies):
            if before_each is not None:
                before_each(strategy)
            sync_to_come = any(s.id == "sync" for s in strategies[i:])
            sampled = sample and not sync_to_come and baselines.needs_sample(config)
            # Several strategies with the same settings are a compare-all: a replay ranks them.
            handle = source.start(
                RunRequest(strategy, config, sample=sampled, compare=len(strategies) > 1)
            )
            run = RunState.new(
                handle.run_id, strategy.id, config.tasks, strategy.is_async, sampled, config.targets
            )
            runs.append(run)
            while not run.closed:
                for event in await queue.get():
                    if event.run_id == run.run_id:
                        run.apply(event)
            baselines.record(config, run)
    finally:
        source.close()  # on Ctrl+C, it kills the run's process, and says the run ended
        while not queue.empty():  # that end, and whatever came before it
            for event in queue.get_nowait():
                for run in runs:
                    if event.run_id == run.run_id:
                        run.apply(event)
    return runs


ROW = 59  # a row's columns before its bar: name, elapsed, cpu, ok, failed, loop lag


def versus_sync(run: RunState, baseline: Baseline | None) -> str:
    """What the table says of a run beside the sync baseline, the loop's block too."""
    versus = verdict(run, baseline)
    if loop_blocked(run.loop_lag_max, run.elapsed(0.0)):
        versus += " · loop blocked"
    return versus


def baselines_of(config: Config, runs: list[RunState]) -> Baselines:
    baselines = Baselines()
    for run in runs:
        baselines.record(config, run)
    return baselines


def baseline_of(config: Config, runs: list[RunState]) -> Baseline | None:
    return baselines_of(config, runs).get(config)


def result_json(
    config: Config, runs: list[RunState], known: Baselines | None = None
) -> dict[str, Any]:
    """`known`: what the runs told of the baseline, each under its own settings, where they
    differ (a replayed sweep: N = 1 to 1,000); default: every run made with `config`."""
    baseline = known.get(config) if known is not None else baseline_of(config, runs)
    return {
        "config": config.to_json(),
        "runs": [run.to_json() for run in runs],
        "baseline": (
            {
                "elapsed": round(baseline.elapsed, 4),
                "measured": baseline.measured,
                "how": baseline.how,
                "errors": baseline.errors,
            }
            if baseline
            else {"elapsed": None, "measured": False, "how": None, "errors": 0}
        ),
    }


def print_json(
    config: Config, runs: list[RunState], out: TextIO, known: Baselines | None = None
) -> None:
    # One write, not json.dump's one per token: with PYTHONUNBUFFERED set (as in many
    # containers) each is a system call, 74,000 for a 1,000-task run (strace).
    out.write(json.dumps(result_json(config, runs, known), indent=2) + "\n")


def print_table(
    config: Config,
    runs: list[RunState],
    out: TextIO,
    measure: str = MEASURE_LIVE,
    known: Baselines | None = None,
    width: int | None = None,
) -> None:
    """One line per run, best first (runs that failed last), with a bar on a shared scale;
    `measure` says how to measure a baseline that is only estimated, as the command can;
    `known` as for result_json. `width`: the columns to fit (default: the terminal's, where
    `out` is one; a pipe's lines are whole). Where a row and its verdict do not fit, the
    verdict goes on a line of its own under the row, and the bar shortens (at 80 columns
    every row wrapped)."""
    known = known if known is not None else baselines_of(config, runs)
    baseline = known.get(config)
    targets = config.targets
    where = (
        config.url if len(targets) == 1 else f"{len(targets)} URLs in turn: {', '.join(targets)}"
    )
    out.write(f"{config.tasks} task{'' if config.tasks == 1 else 's'} · {where}\n\n")
    verdicts = {id(run): versus_sync(run, baseline) for run in runs}
    width = width or terminal_width(out)
    longest = max((len(versus) for versus in verdicts.values()), default=0)
    names = max((len(run.strategy) + len(f" #{run.run_id}") for run in runs), default=0)
    row_width = ROW + max(0, names - 18)  # a name past its 18 columns pushes the rest on
    below = width is not None and row_width + 2 + BAR + 2 + longest > width  # its own line
    bar_width = max(0, min(BAR, width - row_width - 1)) if below and width is not None else BAR
    out.write(
        f"{'strategy':<18}{'elapsed':>9}{'cpu':>8}{'ok':>7}{'failed':>7}{'loop lag':>10}"
        + ("\n" if below else f"  {'':<{BAR}}  vs sync\n")
    )
    # Bars for the runs that can be compared: a run that fetched nothing is not on the scale.
    slowest = max((run.elapsed(0.0) for run in runs if run.comparable), default=0.0)
    strategies = [run.strategy for run in runs]
    for run in sorted(runs, key=rank):
        elapsed = run.elapsed(0.0)
        # A strategy run more than once (a replayed session) is told apart by its run's id.
        name = (
            run.strategy if strategies.count(run.strategy) == 1 else f"{run.strategy} #{run.run_id}"
        )
        versus = verdicts[id(run)]
        lag = "—" if run.loop_lag_max is None else fmt_lag(run.loop_lag_max)
        cpu = "—" if run.cpu is None else f"{run.cpu:.3f}s"  # the run's process, every thread
        share = elapsed / slowest if slowest and run.comparable else 0.0
        bar = meter(share, bar_width) if bar_width else ""
        row = f"{name:<18}{elapsed:>8.3f}s{cpu:>8}{run.ok:>7}{run.failed:>7}{lag:>10}"
        if below:
            out.write(f"{row} {bar}".rstrip() + f"\n{'':4}vs sync: {versus}\n")
        else:
            out.write(f"{row}  {bar}  {versus}\n")
    if baseline and not baseline.measured:
        out.write(
            f"\nsync baseline estimated at {baseline.elapsed:.3f}s ({baseline.how}, "
            f"timed after the first run); {known.why_unmeasured(config) or measure}\n"
        )
    elif baseline is None:
        why = next((run.sample_error for run in runs if run.sample_error), None)
        said = known.why_unmeasured(config) or (f"the sample failed ({why})" if why else "")
        out.write("\nno sync baseline" + (f": {said}" if said else "") + "\n")
    failures = sorted({row.error for run in runs for row in run.tasks if row.error})
    if failures:
        out.write("\nfailures: " + "; ".join(failures[:5]) + "\n")
    for run in runs:
        if run.cut_short:
            out.write(f"\n{run.strategy}: {run.cut_short}\n")
        if run.died:
            out.write(f"\n{run.strategy}: every task had reported, then {run.died}\n")
