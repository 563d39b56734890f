"""`fetchviz tour`: the tutorial's story, one key a step, told from the runs themselves.

Pure: no Textual. Each step names a strategy and what to watch; its caption is written from
the run just made (its time, its threads, its waves, its loop's worst lag), never from figures
known in advance, and says so plainly when the run failed or was cut short. The code panel
marks what changed since the step it builds on: the diff is the lesson.
"""

from __future__ import annotations

import difflib
import itertools
import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from fetchviz.core.baseline import Baseline, rank
from fetchviz.core.catalog import BY_ID, STRATEGIES
from fetchviz.core.model import RunState, fmt_lag, loop_blocked
from fetchviz.core.timeline import fit_text

WIDTH = 76  # a caption line fits 80 columns, with the description's padding to spare
COMPARE = "compare all"


@dataclass(frozen=True, slots=True)
class Step:
    """One stop of the tour: a strategy (None: compare all), and the step it builds on."""

    strategy: str | None
    title: str
    watch: str  # what to look at while it runs: no figures, the run has none yet
    after: str | None = None  # the strategy whose code is diffed, and whose time is weighed

    @property
    def name(self) -> str:
        return self.strategy or COMPARE

    def source(self) -> str | None:
        """The code that runs at this step (None for compare all: every strategy's)."""
        return BY_ID[self.strategy].source() if self.strategy else None

    def changed(self) -> frozenset[int]:
        """The lines of this step's code that the step it builds on did not have."""
        source = self.source()
        if source is None:
            return frozenset()
        before = BY_ID[self.after].source() if self.after else None
        return frozenset(changed_lines(before, source))


STEPS: tuple[Step, ...] = (
    Step("sync", "the staircase", "Watch the rows: each request starts when the one before ends."),
    Step(
        "async-sequential",
        "async def alone",
        "Only `async def` and `await` are new (marked): do the rows change?",
        after="sync",
    ),
    Step(
        "gather-blocking",
        "gathered, but blocking",
        "gather queues them all at once: watch how many run at once, and the loop.",
        after="async-sequential",
    ),
    Step(
        "executor",
        "threads, in waves",
        "Each requests.get goes to a thread of a pool: watch the start column.",
        after="gather-blocking",
    ),
    Step(
        "httpx",
        "one thread, all at once",
        "One async client, no threads: watch how many are in flight at once.",
        after="executor",
    ),
    Step(
        "aiohttp",
        "the same, faster",
        "The same shape with another client: watch the time against httpx's.",
        after="httpx",
    ),
    Step(
        "taskgroup",
        "structured concurrency",
        "A TaskGroup holds the tasks: none outlives its `async with` block.",
        after="aiohttp",
    ),
    Step(
        "threads",
        "the same waves, no asyncio",
        "A thread pool and no asyncio at all: watch for executor's waves.",
        after="executor",
    ),
    Step(None, "every strategy, best first", "Every strategy in turn: the board ranks them."),
)


# What a run shows, counted from its rows


@dataclass(frozen=True, slots=True)
class Facts:
    """The figures a caption may quote, all measured from one run."""

    tasks: int
    elapsed: float
    each: float  # the median request, seconds (0 when none was answered)
    threads: int  # distinct threads that made a request
    peak: int  # the most requests in flight at once
    waves: int  # clusters of start times: a new one after a pause of half a request
    lag: float | None  # the loop's worst lag; None where the strategy has no loop
    blocked: bool  # the loop was stuck for most of the run


def facts(run: RunState) -> Facts:
    """Count what the rows say: how many threads, how many at once, in how many waves."""
    elapsed = run.elapsed(0.0)
    each = statistics.median(run.durations) if run.durations else 0.0
    starts = sorted(row.started for row in run.tasks if row.started is not None)
    ends = sorted(row.finished for row in run.tasks if row.finished is not None)
    return Facts(
        tasks=len(run.tasks),
        elapsed=elapsed,
        each=each,
        threads=len({row.thread for row in run.tasks if row.thread is not None}),
        peak=_peak(starts, ends),
        waves=_waves(starts, each / 2),
        lag=run.loop_lag_max,
        blocked=loop_blocked(run.loop_lag_max, elapsed),
    )


def _peak(starts: list[float], ends: list[float]) -> int:
    """The most requests in flight at one moment (a request ending as another starts
    has left: the staircase is one at a time, not two)."""
    peak = in_flight = done = 0
    for start in starts:
        while done < len(ends) and ends[done] <= start:
            done, in_flight = done + 1, in_flight - 1
        in_flight += 1
        peak = max(peak, in_flight)
    return peak


def _waves(starts: list[float], pause: float) -> int:
    """Start times in clusters: a pool's threads start together, then wait a request."""
    if not starts:
        return 0
    return 1 + sum(1 for a, b in itertools.pairwise(starts) if b - a > pause)


def secs(seconds: float) -> str:
    """'1.53 s', '12.3 s', '1,234 s': as precise as a glance can use, and short."""
    if seconds < 10:
        return f"{seconds:.2f} s"
    return f"{seconds:.1f} s" if seconds < 100 else f"{seconds:,.0f} s"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def vs_sync(elapsed: float, baseline: Baseline | None) -> str:
    """The run's time beside sync's, with sync's figure: the ratio alone hides the scale."""
    if baseline is None or elapsed <= 0:
        return "no sync time yet"
    sync = f"sync's {'' if baseline.measured else '~'}{secs(baseline.elapsed)}"  # ~: estimated
    ratio = baseline.elapsed / elapsed
    if 0.95 <= ratio <= 1.05:  # as baseline.compare() reads it
        return f"the same as {sync}"
    if 0.9 <= ratio <= 1.1:
        return f"within 10% of {sync}"
    if ratio > 1:
        return f"{ratio:.1f}× faster than {sync}"
    return f"{1 / ratio:.1f}× slower than {sync}"


def _versus(elapsed: float, other: float) -> str:
    """Beside another run's time: '1.6× faster', '1.2× slower', 'about as fast'."""
    ratio = other / elapsed if elapsed > 0 else 1.0
    if 0.95 <= ratio <= 1.05:
        return "about as fast"
    return f"{ratio:.1f}× faster" if ratio > 1 else f"{1 / ratio:.1f}× slower"


def _first_reason(run: RunState) -> str:
    return next((row.error for row in run.tasks if row.error), "no answer")


# The lessons: each from the run's facts, its baseline, and the run of the step it builds on

Lesson = Callable[[RunState, Facts, Baseline | None, RunState | None], list[str]]


def _sync(run: RunState, f: Facts, baseline: Baseline | None, _: RunState | None) -> list[str]:
    return [
        f"A plain for loop: each of the {f.tasks:,} requests waits for the one before.",
        f"{secs(f.elapsed)} in all, {secs(f.elapsed / f.tasks)} a request, "
        f"on {_plural(f.threads, 'thread')}: a staircase.",
        "This is the sync baseline: every next step is measured against it.",
    ]


def _async_sequential(
    run: RunState, f: Facts, baseline: Baseline | None, _: RunState | None
) -> list[str]:
    same = baseline is not None and 0.9 <= baseline.elapsed / max(f.elapsed, 1e-9) <= 1.1
    lines = [
        f"`async def` and `await` alone: still {f.peak:,} request at a time"
        + (", a staircase." if f.peak == 1 else "."),
        f"{secs(f.elapsed)}, {vs_sync(f.elapsed, baseline)}"
        + (": async alone buys nothing." if same else "."),
    ]
    if f.lag is not None:
        lines.append(_heartbeat(f.lag, f.blocked, "The loop never got a turn"))
    return lines


def _heartbeat(lag: float, blocked: bool, why: str) -> str:
    """The loop's worst lag, in words that fit it: stopped, or only late."""
    if blocked:
        return f"{why}: its heartbeat stopped for {fmt_lag(lag)}."
    return f"The loop's heartbeat was late by {fmt_lag(lag)} at worst."


def _gather_blocking(
    run: RunState, f: Facts, baseline: Baseline | None, _: RunState | None
) -> list[str]:
    lines = [
        f"gather queued all {f.tasks:,} at once, yet {f.peak:,} ran at a time"
        + (": a staircase." if f.peak == 1 else ".")
    ]
    if f.lag is not None:
        lines.append(_heartbeat(f.lag, f.blocked, "Each requests.get held the loop"))
    lines.append(
        f"{secs(f.elapsed)}, {vs_sync(f.elapsed, baseline)}: gather overlaps only what awaits."
    )
    return lines


def _executor(run: RunState, f: Facts, baseline: Baseline | None, _: RunState | None) -> list[str]:
    loop = f"; the loop's worst lag: {fmt_lag(f.lag)}" if f.lag is not None else ""
    return [
        f"run_in_executor hands each requests.get to a pool: {f.threads} threads here.",
        f"{f.tasks:,} requests in {_plural(f.waves, 'wave')} of up to {f.peak:,}{loop}.",
        f"{secs(f.elapsed)}, {vs_sync(f.elapsed, baseline)}: the threads did the waiting.",
    ]


def _httpx(run: RunState, f: Facts, baseline: Baseline | None, _: RunState | None) -> list[str]:
    return [
        f"One httpx.AsyncClient: {f.peak:,} of {f.tasks:,} in flight at once, "
        f"on {_plural(f.threads, 'thread')}.",
        f"{secs(f.elapsed)}, {vs_sync(f.elapsed, baseline)}.",
        "While one request waits, the loop runs the others"
        + (f": worst lag {fmt_lag(f.lag)}." if f.lag is not None else "."),
    ]


def _aiohttp(
    run: RunState, f: Facts, baseline: Baseline | None, httpx: RunState | None
) -> list[str]:
    lines = [
        f"One aiohttp.ClientSession: the same shape, {f.peak:,} in flight "
        f"on {_plural(f.threads, 'thread')}.",
        f"{secs(f.elapsed)}, {vs_sync(f.elapsed, baseline)}.",
    ]
    if httpx is not None and httpx.comparable:
        other = httpx.elapsed(0.0)
        lines.append(
            f"httpx did the same in {secs(other)}: {_versus(f.elapsed, other)} with aiohttp."
        )
    return lines


def _taskgroup(run: RunState, f: Facts, baseline: Baseline | None, _: RunState | None) -> list[str]:
    if run.failed and not run.cancelled_tasks:  # it came when every other had answered
        return [
            fit(
                f"A failure ({_first_reason(run)}) came when the rest had answered: none to cancel."
            ),
            f"{run.ok} ok, {run.failed} failed, in {secs(f.elapsed)}: no task outlives the block.",
            "Structured concurrency: a failure cancels whatever is still running.",
        ]
    if run.failed or run.cancelled_tasks:
        return [
            f"The first failure ({_first_reason(run)}) cancelled the rest.",
            f"{run.ok} ok, {run.failed} failed, {run.cancelled_tasks} cancelled, "
            f"in {secs(f.elapsed)}: no task outlives the block.",
            "Structured concurrency: the tasks end together, or not at all.",
        ]
    return [
        f"asyncio.TaskGroup: the {f.tasks:,} tasks live inside its `async with` block.",
        f"All ended there, together: {secs(f.elapsed)}, {vs_sync(f.elapsed, baseline)}.",
        "On a failure it cancels the rest: --fail-rate 0.2 --jitter 300 shows it.",
    ]


def _threads(
    run: RunState, f: Facts, baseline: Baseline | None, executor: RunState | None
) -> list[str]:
    lines = [
        f"ThreadPoolExecutor.map, no asyncio: {f.threads} threads, "
        f"{_plural(f.waves, 'wave')} of up to {f.peak:,}.",
        f"{secs(f.elapsed)}, {vs_sync(f.elapsed, baseline)}.",
    ]
    if executor is not None and executor.comparable:
        e = facts(executor)
        same = (e.threads, e.waves) == (f.threads, f.waves)
        lines.append(
            f"executor: {e.threads} threads, {_plural(e.waves, 'wave')}"
            + (": the same waves, and asyncio was not needed." if same else ".")
        )
    return lines


LESSONS: dict[str, Lesson] = {
    "sync": _sync,
    "async-sequential": _async_sequential,
    "gather-blocking": _gather_blocking,
    "executor": _executor,
    "httpx": _httpx,
    "aiohttp": _aiohttp,
    "taskgroup": _taskgroup,
    "threads": _threads,
}


def fit(line: str, width: int = WIDTH) -> str:
    return fit_text(line, width)


def caption(
    step: Step, run: RunState, baseline: Baseline | None, previous: RunState | None
) -> list[str]:
    """Two or three lines for a strategy step: what to watch while it runs; once it has
    ended, what it showed, in its own figures, or plainly why it shows nothing.

    `previous`: the run of the step this one builds on (`step.after`), for its figures."""
    if step.strategy is None:
        raise ValueError("compare all has no single run: its caption is ranking()")
    total = len(run.tasks)
    if not run.done:
        return [fit(step.watch), "Running: the figures come when it ends."]
    if run.error:
        return [
            fit(f"The run failed: {run.error}"),
            "It shows nothing of the strategy: r runs it again.",
        ]
    if run.cancelled:
        return [
            f"This run was cut short, {run.ok + run.failed:,} of {total:,} done: "
            "its time says nothing.",
            "r runs it again.",
        ]
    # A TaskGroup's first failure cancelling the rest is the lesson itself, not a dud run.
    if run.ok == 0 and not (step.strategy == "taskgroup" and run.cancelled_tasks):
        return [
            fit(f"None of the {total:,} requests was answered: {_first_reason(run)}."),
            "Its time says nothing of the strategy: check the target, r runs it again.",
        ]
    lesson = LESSONS.get(step.strategy)
    if lesson is None:  # a step of a strategy with no lesson written: the board says it all
        return [fit(step.watch), "It has run: the rows and the board show how."]
    if previous is not None and len(previous.tasks) != total:
        previous = None  # made with another N (+ or - since): its figures compare nothing
    lines = lesson(run, facts(run), baseline, previous)
    if run.failed and step.strategy != "taskgroup":  # the figures count failures too: say so
        lines = [
            *lines[:2],
            f"{run.failed} of {total:,} failed ({_first_reason(run)}): its figures count them.",
        ]
    return [fit(line) for line in lines]


def ranking(runs: Sequence[RunState], baseline: Baseline | None, total: int) -> list[str]:
    """The compare-all step: best and worst, and how far apart, from the runs just made."""
    done = [run for run in runs if run.done and not run.cancelled]
    if runs and runs[-1].cancelled:
        return [
            f"The compare-all was cut short after {len(done)} of {total:,}: its ranking says "
            "nothing.",
            "r runs it again.",
        ]
    if len(done) < total:  # the next run is on its way
        return [STEPS[-1].watch, f"{len(done)} of {total:,} done: the figures come at the end."]
    # Ranked: the runs whose every request was answered, an HTTP error too (with --fail-rate,
    # the tour's own tip for taskgroup's step, nearly every run has one: "nothing to compare").
    ranked = sorted((run for run in done if run.in_full), key=rank)
    if not ranked:
        return ["No run had every request answered: nothing to compare. r runs them again."]
    best, worst = ranked[0], ranked[-1]
    fast, slow = best.elapsed(0.0), worst.elapsed(0.0)
    lines = [
        f"Fastest: {best.strategy}, {secs(fast)}; slowest: {worst.strategy}, {secs(slow)}, "
        f"{slow / max(fast, 1e-9):.1f}× longer."
    ]
    if baseline is not None:
        sync = baseline.elapsed
        overlapped = [r.elapsed(0.0) for r in ranked if r.elapsed(0.0) < 0.8 * sync]
        if overlapped:
            lines.append(
                f"{len(overlapped)} overlapped their waiting, "
                f"{sync / max(overlapped):.1f}× to {sync / min(overlapped):.1f}× faster than "
                f"sync; {len(ranked) - len(overlapped)} did not."
            )

    def counted(runs: Iterable[RunState]) -> str:
        return ", ".join(f"{run.strategy} ({run.ok} of {len(run.tasks)} ok)" for run in runs)

    unranked = [run for run in done if not run.in_full]
    with_errors = [run for run in ranked if run.failed]
    # Both said where both are (--fail-rate: taskgroup cut short, aiohttp ranked with 500s),
    # in the one line left: those ranked with errors counted, those not ranked named.
    if unranked and with_errors:
        lines.append(
            f"{len(with_errors)} ranked with HTTP errors; not ranked: {counted(unranked)}."
        )
    elif unranked:
        lines.append(f"Not ranked, not every request answered: {counted(unranked)}.")
    elif with_errors:
        lines.append(f"Ranked with HTTP errors, answered in time: {counted(with_errors)}.")
    else:
        lines.append("Only what overlaps the waiting is faster: threads, or an async client.")
    return [fit(line) for line in lines[:3]]


# The code, with what changed marked


def changed_lines(previous_source: str | None, source: str) -> set[int]:
    """0-based lines of `source` that `previous_source` did not have as they are; none on
    the first step (nothing came before it). Blank lines are never marked: noise."""
    if previous_source is None:
        return set()
    before = [line.rstrip() for line in previous_source.splitlines()]
    after = [line.rstrip() for line in source.splitlines()]
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    return {
        j
        for tag, _, _, j1, j2 in matcher.get_opcodes()
        if tag in ("replace", "insert")
        for j in range(j1, j2)
        if after[j].strip()
    }


# Where the tour is, and what each step recorded


class Tour:
    """The step on screen and the runs each step recorded: ← shows a step as it ran."""

    def __init__(self, steps: Sequence[Step] = STEPS, compared: int = len(STRATEGIES)) -> None:
        self.steps = tuple(steps)
        self.compared = compared  # how many runs the compare-all step makes
        self.index = 0
        self._runs: list[list[RunState]] = [[] for _ in self.steps]
        self._said: tuple[object, list[str]] = ((), [])  # the last caption, and what it read
        # Each ended run's baseline as it was when it ended: `←` shows a step as it ran, its
        # ratio too (compare-all's later sync run had moved "4.8×" to "4.7×").
        self._baseline_of: dict[int, Baseline | None] = {}  # by run_id

    @property
    def step(self) -> Step:
        return self.steps[self.index]

    @property
    def place(self) -> str:
        return f"step {self.index + 1}/{len(self.steps)}"

    def header(self) -> str:
        """'step 3/9 · gather-blocking — gathered, but blocking'."""
        return f"{self.place} · {self.step.name} — {self.step.title}"

    def next(self) -> bool:
        """On to the next step; False at the last."""
        if self.index + 1 >= len(self.steps):
            return False
        self.index += 1
        return True

    def previous(self) -> bool:
        """Back a step, to its recorded run; False at the first."""
        if self.index == 0:
            return False
        self.index -= 1
        return True

    def record(self, run: RunState) -> bool:
        """Keep a run as this step's: a strategy step keeps its latest; compare all keeps
        every run of its latest round (one starting with sync begins a new round). False for
        a run that is not this step's (it is not kept)."""
        runs = self._runs[self.index]
        strategy = self.step.strategy
        if strategy is not None:
            if run.strategy != strategy:
                return False
            runs[:] = [run]
        else:
            if run.strategy == STRATEGIES[0].id:
                runs.clear()
            runs.append(run)
        return True

    @property
    def runs(self) -> tuple[RunState, ...]:
        """What this step recorded: its run, or the compare-all's runs."""
        return tuple(self._runs[self.index])

    @property
    def run(self) -> RunState | None:
        """The run on screen for this step: its latest."""
        runs = self._runs[self.index]
        return runs[-1] if runs else None

    @property
    def needs_run(self) -> bool:
        """Nothing recorded here yet, or only a run cut short by moving on: run it."""
        run = self.run
        return run is None or run.cancelled

    def runs_so_far(self) -> set[int]:
        """The ids of the runs the strategy steps up to this one recorded."""
        return {
            id(runs[-1])
            for step, runs in zip(self.steps[: self.index + 1], self._runs, strict=False)
            if step.strategy is not None and runs
        }

    def recorded(self, strategy: str | None) -> RunState | None:
        """The run a strategy step recorded for `strategy`, if any."""
        for step, runs in zip(self.steps, self._runs, strict=True):
            if strategy is not None and step.strategy == strategy and runs:
                return runs[-1]
        return None

    def baseline_for(self, run: RunState | None, now: Baseline | None) -> Baseline | None:
        """What a step's run is weighed against, in its caption and its run panel alike: the
        baseline as it was when the run ended (compare-all's later sync run moves `now`; ←
        to step 1 then said its 2.03 s sync run was a 2.05 s baseline)."""
        if self.step.strategy is not None and run is not None and run is self.run and run.closed:
            return self._baseline_of.setdefault(run.run_id, now)
        return now

    def caption(self, baseline: Baseline | None) -> list[str]:
        """This step's caption: its run, weighed against the run of the step it builds on.
        Made again only when one of them has changed: the app asks every frame, and counting
        waves sorts every row (100,000 rows: tens of ms)."""
        step, previous = self.step, self.recorded(self.step.after)
        run = self.run
        baseline = self.baseline_for(run, baseline)
        # A run changes nothing a caption reads once it has ended, but for its sync sample.
        key = (
            self.index,
            [(id(run), run.end, run.finished_count) for run in self.runs],
            baseline,
            None if previous is None else (id(previous), previous.end),
        )
        if key == self._said[0]:
            return self._said[1]
        if step.strategy is None:
            said = ranking(self.runs, baseline, self.compared)
        elif self.run is None:
            said = [fit(step.watch), "r runs it."]
        else:
            said = caption(step, self.run, baseline, previous)
        self._said = (key, said)
        return said
