"""The sync baseline, and how a run reads beside it.

Measured: the elapsed time of a `sync` run with the same settings in which every task got
the server's answer (an HTTP error is one: `--fail-rate`'s 500 comes after the same delay as a
200, so the run still made N requests one after another). Until one has run, estimated: N ×
the median of a few `requests.get` made one after another, as `sync` makes them, timed in the
run's process after a run (SyncSample). Not from the run's own durations: under concurrency
they are slowed by the concurrency itself (1,000 aiohttp requests at once take 0.3–0.6 s each
against a 100 ms server), and N × that overstated the baseline by up to 50×.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from fetchviz.core.config import BaselineKey, Config, SampleKey
from fetchviz.core.model import RunState

MEASURED = "measured by a sync run"


@dataclass(frozen=True, slots=True)
class Baseline:
    elapsed: float
    measured: bool
    how: str  # where the figure comes from, in words
    errors: int = 0  # HTTP errors among the measuring sync run's answers (--fail-rate's)


class Baselines:
    """What is known of the sync baseline, per target: measured runs, and samples."""

    def __init__(self) -> None:
        self._measured: dict[BaselineKey, float] = {}
        self._errors: dict[BaselineKey, int] = {}  # the measuring run's HTTP errors
        self._unused: dict[BaselineKey, str] = {}  # why the last sync run did not measure it
        self._samples: dict[SampleKey, tuple[float, ...]] = {}

    def record(self, config: Config, run: RunState) -> None:
        """Keep what a run tells of the baseline: a sync run's time if every task got its
        answer (or why not); a sync sample taken after it."""
        if run.strategy == "sync" and run.done:
            key = config.baseline_key()
            if run.in_full:
                self._measured[key] = run.elapsed(0.0)
                self._errors[key] = run.failed
                self._unused.pop(key, None)
            elif key not in self._measured:
                self._unused[key] = not_a_baseline(run)
        if run.sample:
            self._samples[config.sample_key()] = run.sample

    def why_unmeasured(self, config: Config) -> str | None:
        """Why a sync run with these settings is not the baseline; None if none ran."""
        return self._unused.get(config.baseline_key())

    def needs_sample(self, config: Config) -> bool:
        """Nothing yet to show for these settings: no measured sync run, no sample."""
        return (
            config.baseline_key() not in self._measured and config.sample_key() not in self._samples
        )

    def get(self, config: Config) -> Baseline | None:
        measured = self._measured.get(config.baseline_key())
        if measured is not None:
            errors = self._errors.get(config.baseline_key(), 0)
            if errors:  # said, so that no one takes a run with 500s for a clean one
                how = f"{MEASURED}, {errors} of its answers HTTP errors"
                return Baseline(measured, True, how, errors)
            return Baseline(measured, True, MEASURED)
        sample = self._samples.get(config.sample_key())
        if not sample:
            return None
        targets = config.used_targets()
        if len(targets) == 1:
            return Baseline(
                config.tasks * statistics.median(sample),
                False,
                f"N × median of {len(sample)} sequential requests",
            )
        # Task i fetches target i mod k: each target's median, times the tasks that fetch it.
        each = len(sample) // len(targets)
        total = 0.0
        for t in range(len(targets)):
            tasks = config.tasks // len(targets) + (1 if t < config.tasks % len(targets) else 0)
            total += tasks * statistics.median(sample[t * each : (t + 1) * each])
        return Baseline(total, False, f"per URL, its tasks × median of {each} sequential requests")


def not_a_baseline(run: RunState) -> str:
    """Why a sync run that ended is not the baseline, in a line."""
    if run.error or run.cancelled or not run.comparable:
        return f"sync's run is not a baseline ({verdict(run, None)})"
    n = run.unanswered
    return (
        f"sync's run is not a baseline: {n} of its {len(run.tasks)} requests ended early "
        "(no answer, or an error sent at once)"
    )


def compare(elapsed: float, baseline: float) -> str:
    """How a run's time reads beside the sync baseline: '9.7× faster · 89% less time'."""
    if elapsed <= 0 or baseline <= 0:
        return ""
    ratio = baseline / elapsed
    if 0.95 <= ratio <= 1.05:
        return "about the same as sync"
    if ratio > 1:
        saved = 100 * (1 - elapsed / baseline)
        # Past 99.5 % a whole number says 100 %, which no run saves: one decimal, below 100.
        said = f"{saved:.0f}" if saved < 99.5 else f"{min(saved, 99.9):.1f}"
        return f"{ratio:.1f}× faster · {said}% less time"
    return f"{1 / ratio:.1f}× slower than sync"


def verdict(run: RunState, baseline: Baseline | None) -> str:
    """What a finished run amounts to beside the baseline: a ratio only for a run that
    fetched something, and a partly failed run says so beside its ratio."""
    total = len(run.tasks)
    if run.error:
        return f"run failed: {run.error}"
    if run.cancelled:
        return "cancelled: not comparable"
    if run.ok == 0:
        return f"0 of {total} ok: not comparable"
    if run.cut_by_failure:  # a TaskGroup's first failure: its time is up to that failure
        return f"{run.ok} of {total} ok, {run.cancelled_tasks} cut short: not comparable"
    if run.unreported:  # a strategy that never reported some tasks (a user's, most likely)
        return f"{run.ok} of {total} ok, {run.unreported} never reported: not comparable"
    partly = f" · {run.ok} of {total} ok" if run.ok < total else ""
    if run.strategy == "sync" and baseline is not None and baseline.measured and not run.unanswered:
        return "baseline" + partly
    if run.strategy == "sync" and run.unanswered:  # not weighed against its own estimate
        return f"not a baseline: {run.unanswered} ended early" + partly
    if baseline is None:
        return "no baseline" + partly  # said of a finished run too: no "yet"
    return compare(run.elapsed(0.0), baseline.elapsed) + partly


def rank(run: RunState) -> tuple[int, float]:
    """Best first: runs in which every task got the server's answer (an HTTP error is one:
    --fail-rate's 500 comes after the same delay), then runs with a request unanswered, then
    the runs that are not comparable; by elapsed time within each. (All-ok runs first put a
    0.58 s sync above a 0.06 s aiohttp with one 500 in it, under "best first".)"""
    group = 0 if run.in_full else (1 if run.comparable else 2)
    return group, run.elapsed(0.0)
