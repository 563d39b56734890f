"""How time grows with N: each strategy run at several sizes, one run at a time, in the same
processes and with the same events as any run; written as a table, JSON or CSV.

No Textual here: `fetchviz sweep --json | --csv | --headless` and the dashboard's sweep screen
(ui/screens/sweep.py) share it.

The sequential strategies are estimated past a size unless asked to run (`--run-all-sizes`):
at the default 500 ms a request, sync alone at N = 1,000 would take eight minutes, and their
time is N × the time of one request (measured against 40 ms at N = 100: 4.23-4.24 s estimated
from their runs at N = 10, 4.23-4.37 s run). An estimate says so wherever it is shown.
"""

from __future__ import annotations

import asyncio
import csv
import inspect
import json
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from fetchviz.core.catalog import Strategy
from fetchviz.core.config import Config
from fetchviz.core.model import RunState
from fetchviz.core.source import Batch, EventSource, RunRequest

DEFAULT_SIZES = (1, 10, 100, 1000)
# One request after another: their time grows as N (by id: nothing is assumed of a user's).
SEQUENTIAL = frozenset({"sync", "async-sequential", "gather-blocking"})
RUN_SEQUENTIAL_UP_TO = 100  # past this N, the sequential strategies are estimated
ESTIMATED = "~"  # marks an estimate in the table and on screen
INCOMPLETE = "!"  # marks a run in which not every task was answered

BeforeEach = Callable[[Strategy, int], Awaitable[None] | None]


@dataclass(frozen=True, slots=True)
class Point:
    """One strategy at one N: measured by a run, or estimated (never shown as measured)."""

    strategy: str
    tasks: int
    elapsed: float | None  # None: the run itself failed, or there was nothing to estimate from
    estimated: bool = False
    ok: int | None = None  # None for an estimate: no task ran
    failed: int | None = None
    error: str | None = None  # why not every task was answered (the commonest reason)
    estimated_from: int | None = None  # an estimate's N: the run it scales
    cpu: float | None = None  # the run's process's CPU seconds, and the server's (RunState)
    server_cpu: float | None = None

    @property
    def complete(self) -> bool:
        """Every task answered, or an estimate from such a run: a point of the line."""
        if self.elapsed is None:
            return False
        return self.estimated or (self.ok == self.tasks and self.error is None)

    @classmethod
    def measured(cls, run: RunState) -> Point:
        reasons = Counter(row.error for row in run.tasks if row.error)
        error = run.error or (reasons.most_common(1)[0][0] if reasons else None)
        if error is None and run.unreported:
            error = f"{run.unreported} never reported"
        return cls(
            run.strategy,
            len(run.tasks),
            None if run.error else run.elapsed(0.0),
            ok=run.ok,
            failed=run.failed,
            error=error,
            cpu=run.cpu,
            server_cpu=run.server_cpu,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "strategy": self.strategy,
            "tasks": self.tasks,
            "elapsed": None if self.elapsed is None else round(self.elapsed, 4),
            "estimated": self.estimated,
            "ok": self.ok,
            "failed": self.failed,
            "error": self.error,
            "estimated_from": self.estimated_from,
            "cpu": None if self.cpu is None else round(self.cpu, 4),
            "server_cpu": None if self.server_cpu is None else round(self.server_cpu, 4),
        }


@dataclass(frozen=True, slots=True)
class Step:
    strategy: Strategy
    tasks: int
    estimated: bool


def plan(
    strategies: Sequence[Strategy], sizes: Sequence[int], run_sequential_up_to: int | None
) -> list[Step]:
    """Size by size, smallest first, every strategy at each: the picture fills in across
    all of them, and a cancelled sweep keeps whole sizes."""
    return [
        Step(
            strategy,
            n,
            strategy.id in SEQUENTIAL
            and run_sequential_up_to is not None
            and n > run_sequential_up_to,
        )
        for n in sorted(set(sizes))
        for strategy in strategies
    ]


def time_per_request(run: RunState) -> float:
    """What each request adds to a one-after-another run: the mean time from one answer to
    the next, its overhead in, from the first answer on (one slow first connection does not
    set it). A mean, not a median: with several URLs in turn, each counts as often as its
    tasks do."""
    assert run.start is not None
    ends = sorted(row.finished for row in run.tasks if row.finished is not None)
    if len(ends) < 2:
        return ends[0] - run.start if ends else 0.0
    return (ends[-1] - ends[0]) / (len(ends) - 1)


def estimate(step: Step, basis: tuple[int, float] | None) -> Point:
    return estimated(step.strategy.id, step.tasks, basis)


def estimated(strategy: str, tasks: int, basis: tuple[int, float] | None) -> Point:
    """A sequential strategy at `tasks`, from `basis`: (N, time a request) of its largest run
    in full."""
    if basis is None:
        return Point(
            strategy,
            tasks,
            None,
            estimated=True,
            error="no run in full at a smaller N to estimate from",
        )
    n, per_request = basis
    return Point(strategy, tasks, tasks * per_request, True, estimated_from=n)


async def sweep(
    config: Config,
    strategies: Sequence[Strategy],
    sizes: Sequence[int] = DEFAULT_SIZES,
    source: EventSource | None = None,
    run_sequential_up_to: int | None = RUN_SEQUENTIAL_UP_TO,
    before_each: BeforeEach | None = None,
    on_point: Callable[[Point], None] | None = None,
    points: list[Point] | None = None,
) -> list[Point]:
    """Run each strategy at each size, in turn, and return a point for each.

    `run_sequential_up_to`: past it, the sequential strategies are estimated (None: run).
    `before_each(strategy, n)` runs before each run (the CLI restarts a dead server there);
    `on_point` is given each point as it comes, and `points` is filled as they come: if this
    is cancelled, it holds the points so far, the run cut short is killed, and no process of
    the source's outlives this.
    """
    queue: asyncio.Queue[Batch] = asyncio.Queue()
    if source is None:
        from fetchviz.runs.runner import Runner

        source = Runner(live=False)  # quiet: nobody reads a run's rows, only its time
    source.open(queue.put_nowait)
    points = [] if points is None else points
    basis: dict[str, tuple[int, float]] = {}  # the largest run in full of each sequential one
    try:
        for step in plan(strategies, sizes, run_sequential_up_to):
            if step.estimated:
                point = estimate(step, basis.get(step.strategy.id))
            else:
                if before_each is not None and inspect.isawaitable(
                    waiting := before_each(step.strategy, step.tasks)
                ):
                    await waiting
                run = await _run(source, queue, step.strategy, config.with_tasks(step.tasks))
                point = Point.measured(run)
                if step.strategy.id in SEQUENTIAL and point.complete:
                    basis[step.strategy.id] = (step.tasks, time_per_request(run))
            points.append(point)
            if on_point is not None:
                on_point(point)
    finally:
        source.close()  # on cancellation, it kills the run's process
    return points


async def _run(
    source: EventSource, queue: asyncio.Queue[Batch], strategy: Strategy, config: Config
) -> RunState:
    """One run to its end: no sync sample (a sweep has no baseline to show)."""
    handle = source.start(RunRequest(strategy, config))
    run = RunState.new(
        handle.run_id, strategy.id, config.tasks, strategy.is_async, targets=config.targets
    )
    while not run.closed:
        for event in await queue.get():
            if event.run_id == run.run_id:
                run.apply(event)
    return run


# What it is written as


def fmt_seconds(seconds: float) -> str:
    """Three digits or so, whatever the decade: the columns of a log axis."""
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 10:
        return f"{seconds:.2f} s"
    return f"{seconds:.1f} s" if seconds < 100 else f"{seconds:,.0f} s"


def fmt_point(point: Point | None) -> str:
    """A cell: '41 ms', '~41.5 s' (estimated), '!1.20 s' (not every task answered)."""
    if point is None:
        return ""
    if point.elapsed is None:
        return "—" if point.estimated else "failed"
    mark = ESTIMATED if point.estimated else ("" if point.complete else INCOMPLETE)
    return mark + fmt_seconds(point.elapsed)


def target_of(config: Config) -> str:
    if config.delay_ms is not None:
        return f"{config.delay_ms} ms a request" + (
            f" +0..{config.jitter_ms}" if config.jitter_ms else ""
        )
    targets = config.targets
    return config.url if len(targets) == 1 else f"{len(targets)} URLs in turn"


def notes(points: Sequence[Point]) -> list[str]:
    """What the marks mean, for the points that carry one."""
    lines = []
    estimates = [p for p in points if p.estimated and p.estimated_from is not None]
    if estimates:
        bases = sorted({p.estimated_from for p in estimates if p.estimated_from is not None})
        lines.append(
            f"{ESTIMATED} estimated, not run: N × the time per request of the strategy's run "
            f"at N = {', '.join(f'{n:,}' for n in bases)}\n  (--run-all-sizes runs them)"
        )
    for p in points:
        if not p.complete:
            what = "no estimate" if p.estimated else "failed" if p.elapsed is None else INCOMPLETE
            ok = "" if p.ok is None else f"{p.ok:,} of {p.tasks:,} ok: "
            lines.append(f"{what} {p.strategy} at N = {p.tasks:,}: {ok}{p.error}")
    return lines


def print_table(config: Config, sizes: Sequence[int], points: Sequence[Point], out: TextIO) -> None:
    """N across, strategies down: how each one's time grows, read along its row."""
    sizes = sorted(set(sizes))
    names = list(dict.fromkeys(p.strategy for p in points))
    cells = {(p.strategy, p.tasks): fmt_point(p) for p in points}
    width = max([9, *(len(c) + 2 for c in cells.values()), *(len(f"{n:,}") + 2 for n in sizes)])
    name_width = max([18, *(len(n) + 2 for n in names)])
    out.write(f"elapsed by N · {target_of(config)}\n\n")
    out.write(f"{'strategy':<{name_width}}" + "".join(f"{n:>{width},}" for n in sizes) + "\n")
    for name in names:
        row = "".join(f"{cells.get((name, n), ''):>{width}}" for n in sizes)
        out.write(f"{name:<{name_width}}{row}\n")
    lines = notes(points)
    if lines:
        out.write("\n" + "\n".join(lines) + "\n")


def result_json(
    config: Config,
    sizes: Sequence[int],
    points: Sequence[Point],
    run_sequential_up_to: int | None,
) -> dict[str, Any]:
    from fetchviz.runs.headless import result_json as run_json

    settings = {k: v for k, v in run_json(config, [])["config"].items() if k != "tasks"}
    return {
        "config": settings,
        "sizes": sorted(set(sizes)),
        "run_sequential_up_to": run_sequential_up_to,
        "points": [point.to_json() for point in points],
    }


def print_json(
    config: Config,
    sizes: Sequence[int],
    points: Sequence[Point],
    run_sequential_up_to: int | None,
    out: TextIO,
) -> None:
    # One write (see headless.print_json).
    out.write(json.dumps(result_json(config, sizes, points, run_sequential_up_to), indent=2) + "\n")


CSV_FIELDS = (
    "strategy",
    "tasks",
    "elapsed",
    "estimated",
    "ok",
    "failed",
    "error",
    "estimated_from",
    "cpu",
    "server_cpu",
)


def print_csv(points: Sequence[Point], out: TextIO) -> None:
    """A row per point; an empty cell where JSON says null; true/false as JSON spells them."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    for point in points:
        row = point.to_json()
        writer.writerow(
            [
                str(v).lower() if isinstance(v, bool) else "" if v is None else v
                for v in (row[field] for field in CSV_FIELDS)
            ]
        )
